#pragma once

#include <QString>

namespace tfreeze {

// `tfreeze-studio --bench NAME`: runs one of the studio's benchmarks and prints its figures
// (the speed and memory targets of the studio are shown this way, never asserted in tests):
//   timeline  repaint of a 65,536-bar timeline at 1920×1080, level of detail on and off;
//   rho       dragging ρ over a 1,024-action plan: request → plan latency, cold and warm;
//   live      a live run in the main window: the longest GUI stall and view updates per second;
//   memory    the studio's memory with a 10,000-step run from the history open.
// Returns the process exit code (2 for an unknown name).
int runStudioBenchmark(const QString& name);

// The resident and peak memory of this process in MB (Linux /proc/self/status).
double residentMegabytes();
double peakResidentMegabytes();

} // namespace tfreeze
