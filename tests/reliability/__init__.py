"""The reliability suite: crashes, faults, database faults, hostile input, secrets, resources."""
