"""Tests of the home data: local store, routes, files and the import command."""
