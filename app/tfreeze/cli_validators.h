#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace tfreeze {

// CLI11's Range lets NaN through (every comparison with NaN is false), so these check finiteness.
// `tag` is what --help shows after the type, `requirement` completes "... is not <requirement>".
CLI::Validator finiteNumberIn(double low, double high, const std::string& tag, const std::string& requirement);
// A number in [0, 1], e.g. a freeze ratio.
CLI::Validator unitInterval();
// A finite number of milliseconds >= 0.
CLI::Validator nonNegativeMs();
// A whole number >= 1 (a count, an interval in steps). CLI11's PositiveNumber says "Value 0 not in
// range 0.000000 to 1797693...": a range that contains the rejected 0.
CLI::Validator positiveInteger();

// Throws InputError naming `flag` when a file could not be written at `path` later: it is a folder,
// or its folder does not exist or is not writable. For outputs written at the end of long work
// (training, a large plan), so that a typo in the path does not cost the work.
void checkOutputFile(const std::string& path, const std::string& flag);

} // namespace tfreeze
