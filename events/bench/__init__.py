"""The events app's benchmark: `manage.py bench_registration` (bench_registration.py),
registrations per second through the real view beside bare INSERTs. Not part of the test suite."""
