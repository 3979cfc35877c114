#pragma once

#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace tfreeze {

struct ImportTraceOptions {
    std::string tracePath;
    std::string outPath;
    double frozenFraction = 1.0;
};

// `tfreeze import trace FILE [--out profile.json] [--frozen-fraction F]`: registers the command
// under `importGroup`; runImportTrace reads the trace, prints a summary to `out` and writes the
// profile. Errors are InputError (exit code 2) naming the file and the event.
CLI::App* addImportTraceCommand(CLI::App& importGroup, ImportTraceOptions& options);
void runImportTrace(const ImportTraceOptions& options, std::ostream& out);

} // namespace tfreeze
