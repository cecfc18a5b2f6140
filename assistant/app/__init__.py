"""The application: the answer chain, the service, the command line, evaluation, the UI."""
