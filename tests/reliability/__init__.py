"""The standing reliability suite: a real agent process under crashes, faults and hostile input."""
