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

} // namespace tfreeze
