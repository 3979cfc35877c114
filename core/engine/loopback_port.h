#pragma once

// Torch-free: the CLI's launcher, the studio and the tests pick rank 0's store port with it.

namespace tfreeze {

// A loopback TCP port nobody listens on now (the kernel's pick), for rank 0's c10d store to bind
// moments later. Throws std::runtime_error when no socket can be opened or bound.
int freeLoopbackPort();

} // namespace tfreeze
