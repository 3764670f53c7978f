"""Stores: adapters for the application's storage port (:mod:`nyxmon.service_layer.storage`).

:mod:`nyxmon.store.sqlite` is the embedded default. Importing this package loads no driver:
``bootstrap.open_store`` picks and imports the implementation a config names.
"""
