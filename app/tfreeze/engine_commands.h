#pragma once

#include <array>
#include <string>

namespace tfreeze {

class CommandSet;

// The commands that need LibTorch: `train`, `bench train` and `doctor`. They live in the
// executable tfreeze-engine; tfreeze itself links no LibTorch, whose loading and static
// initialisation cost about 0.9 s on every start (measured 2026-12-06 on the 2-core build machine:
// `tfreeze --version` 1.0 s with it, 0.01 s without), so planning, history and trace commands start
// at once, and tfreeze hands an engine command to tfreeze-engine (exec, same process).
struct EngineCommand {
    const char* group; // "" for a top-level command
    const char* name;
    const char* description;
};
inline constexpr EngineCommand kTrainCommand { "", "train",
    "Train a model through a pipeline schedule with a freezer, timing every action (Ctrl-C stops cleanly)" };
inline constexpr EngineCommand kBenchTrainCommand { "bench", "train",
    "Train the same config and seed under several freezers back to back and compare throughput and accuracy" };
inline constexpr EngineCommand kDoctorCommand { "", "doctor",
    "Show the engine's devices and c10d backends, and check that collectives over one of them return the right "
    "values (world size 1, or the job of RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT as under torchrun)" };
inline constexpr std::array<EngineCommand, 3> kEngineCommands { kTrainCommand, kBenchTrainCommand, kDoctorCommand };

// The one of kEngineCommands the command line names (argv[1], and argv[2] for a group), or null.
const EngineCommand* findEngineCommand(int argc, char** argv);

// The command as typed: "train", "bench train".
std::string commandText(const EngineCommand& command);

// Replaces this process with tfreeze-engine (beside this executable), given the same arguments, to
// run `command`. Returns only when that failed, with a message that says why.
std::string execEngine(const EngineCommand& command, char** argv);

// kEngineCommands as entries of tfreeze's help, so `tfreeze --help` lists them. They take any
// arguments; main() execs tfreeze-engine for them before parsing (or, in a build without the
// engine, says so).
void addEngineCommandEntries(CommandSet& commands);

} // namespace tfreeze
