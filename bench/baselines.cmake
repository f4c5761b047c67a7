# Baseline transports, measured in the same run as shmrpc (bench/README.md).
