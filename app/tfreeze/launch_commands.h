#pragma once

#include <string>

namespace tfreeze {

class CommandSet;

// `tfreeze launch --nproc N -- COMMAND...`: N local processes of tfreeze COMMAND, set up the way
// torchrun sets up its workers (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT). Torch-free: it only starts, watches and stops processes.
void addLaunchCommands(CommandSet& commands);

// The path of this executable (/proc/self/exe); throws std::runtime_error when it cannot be read.
std::string selfPath();

} // namespace tfreeze
