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

// checkWritableFile (core/plan/text_file.h) for a flag's output file, the message naming the flag:
// for outputs written at the end of long work (training), so that a typo in the path does not cost it.
void checkOutputFile(const std::string& path, const std::string& flag);

} // namespace tfreeze
