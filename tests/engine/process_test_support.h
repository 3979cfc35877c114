#pragma once

// For tests that are rank 0 of a multi-process job and start copies of themselves as the other
// ranks (the copy sees its role in its environment). POSIX only; header-only, test code.

#include "core/engine/loopback_port.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace tfreeze::testing {

// Rank 0's store port.
using tfreeze::freeLoopbackPort;

// Starts this executable again with `variables` ("NAME=value") added to this process's environment,
// minus its job variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*). Returns the pid, or −1.
inline pid_t spawnSelf(std::vector<std::string> variables)
{
    for (char** entry = environ; *entry; ++entry) {
        const std::string text = *entry;
        const bool job = text.rfind("RANK=", 0) == 0 || text.rfind("WORLD_SIZE=", 0) == 0
            || text.rfind("LOCAL_RANK=", 0) == 0 || text.rfind("MASTER_", 0) == 0;
        if (!job)
            variables.push_back(text);
    }
    std::vector<char*> envp;
    for (std::string& variable : variables)
        envp.push_back(variable.data());
    envp.push_back(nullptr);
    std::string self(4096, '\0');
    const ssize_t length = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
    self.resize(length > 0 ? static_cast<std::size_t>(length) : 0);
    char* argv[] = { self.data(), nullptr };
    pid_t pid = -1;
    if (::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv, envp.data()) != 0)
        return -1;
    return pid;
}

// The exit code of `pid`, or 128 + the signal that killed it (as a shell reports it).
inline int waitExitCode(pid_t pid)
{
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace tfreeze::testing
