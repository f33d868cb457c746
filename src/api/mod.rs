//! HTTP routes shared by the Lambda functions and the local server.
