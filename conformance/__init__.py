"""The conformance suite: tables of rows, the scenario interpreter, verdicts and reports."""
