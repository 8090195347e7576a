"""The data builders the tests share, one module per domain: plain functions (and the
constants they build on) that make records through the services or the HTTP routes. The
fixtures that call them live in the conftest of the tests that use them."""
