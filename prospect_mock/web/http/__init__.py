"""The wire: the HTTP/1.1 protocol under the app, and the server that runs it."""
