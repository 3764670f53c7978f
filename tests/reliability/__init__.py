"""The standing reliability suite: NyxMon under hostile input, crashes and faults.

Each module takes one kind of abuse (hostile config files and conditions, a killed process,
a full disk, a peer that misbehaves, ...) and asserts the promises that must hold anyway: a
clear error of the project's own kind instead of a traceback, nothing stored lost, resources
bounded. Tests here run in the ordinary suite with a small budget; property tests run many
more examples with ``NYXMON_RELIABILITY_LONG=1``. Add a module of your own per kind of abuse.
"""
