// The translation unit that hosts the test suites' precompiled headers (tests/CMakeLists.txt).
// Nothing of it is linked anywhere; the PCH is built with its compile flags.
