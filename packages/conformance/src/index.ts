// @flow/conformance is a test suite, not a library: its specs check the contracts' generated
// code and a server per contract over real ports. Nothing is exported on purpose.
export {};
