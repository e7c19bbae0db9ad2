"""The COS protocol, with no Airflow import: signing, endpoints, XML, errors,
transport with retries, and the copy engine. Triggers, the emulator,
benchmarks and scripts build on it."""
