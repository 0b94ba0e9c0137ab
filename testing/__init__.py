"""Test support: real servers (Redis, the web server, GPU workers) started for the test session."""
