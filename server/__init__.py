"""The gRPC linkage broker."""
