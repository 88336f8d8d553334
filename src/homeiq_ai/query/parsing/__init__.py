"""The offline parser: a request in plain English to typed haconfig plans and questions."""
