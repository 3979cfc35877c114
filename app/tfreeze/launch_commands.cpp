// tfreeze launch: a local torchrun. The first rank to fail ends the job: the others get a grace period,
// then SIGTERM, then SIGKILL, so that no process outlives the launcher's answer.
#include "app/tfreeze/launch_commands.h"

#include "app/tfreeze/command_set.h"
#include "core/plan/plan_error.h"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace tfreeze {

namespace {

struct LaunchOptions {
    int nproc = 2;
    int masterPort = 0; // 0: a free port
    std::string masterAddr = "127.0.0.1";
    int graceSeconds = 30; // after a failure: time for the others to end on their own
    static constexpr int kTermSeconds = 5; // then SIGTERM, and SIGKILL this much later
    std::vector<std::string> command;
};

std::atomic<int> g_forwardSignal { 0 };

extern "C" void onLauncherSignal(int signal) { g_forwardSignal = signal; }

// A port nobody listens on now; rank 0's store binds it moments later.
int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        throw std::runtime_error(std::string("launch: cannot open a socket: ") + std::strerror(errno));
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0
        && ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    ::close(fd);
    if (!ok)
        throw std::runtime_error(std::string("launch: cannot find a free port: ") + std::strerror(errno));
    return ntohs(address.sin_port);
}

std::string selfPath()
{
    std::string path(4096, '\0');
    const ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
    if (length <= 0)
        throw std::runtime_error("launch: cannot find the tfreeze executable (/proc/self/exe)");
    path.resize(static_cast<std::size_t>(length));
    return path;
}

bool isJobVariable(const std::string& entry)
{
    for (const char* name :
        { "RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT=" })
        if (entry.rfind(name, 0) == 0)
            return true;
    return false;
}

std::string describeStatus(int status)
{
    if (WIFEXITED(status))
        return "exited with code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "ended";
}

int exitCodeOf(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

void runLaunch(const LaunchOptions& options)
{
    if (options.command.empty())
        throw InputError("launch", "COMMAND", "give the tfreeze command to run after --, e.g. -- train --config FILE");
    const int port = options.masterPort > 0 ? options.masterPort : freePort();
    const std::string self = selfPath();
    std::vector<std::string> inherited;
    for (char** entry = environ; *entry; ++entry)
        if (!isJobVariable(*entry))
            inherited.emplace_back(*entry);

    std::fprintf(
        stderr, "tfreeze launch: %d processes, master %s:%d\n", options.nproc, options.masterAddr.c_str(), port);
    std::signal(SIGINT, onLauncherSignal);
    std::signal(SIGTERM, onLauncherSignal);
    std::map<pid_t, int> running; // pid → rank
    for (int rank = 0; rank < options.nproc; ++rank) {
        std::vector<std::string> variables = inherited;
        variables.push_back("RANK=" + std::to_string(rank));
        variables.push_back("LOCAL_RANK=" + std::to_string(rank));
        variables.push_back("WORLD_SIZE=" + std::to_string(options.nproc));
        variables.push_back("LOCAL_WORLD_SIZE=" + std::to_string(options.nproc));
        variables.push_back("MASTER_ADDR=" + options.masterAddr);
        variables.push_back("MASTER_PORT=" + std::to_string(port));
        std::vector<char*> envp;
        for (std::string& variable : variables)
            envp.push_back(variable.data());
        envp.push_back(nullptr);
        std::vector<std::string> arguments { "tfreeze" };
        arguments.insert(arguments.end(), options.command.begin(), options.command.end());
        std::vector<char*> argv;
        for (std::string& argument : arguments)
            argv.push_back(argument.data());
        argv.push_back(nullptr);
        pid_t pid = -1;
        const int error = ::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data());
        if (error != 0) {
            for (const auto& [started, r] : running)
                ::kill(started, SIGKILL);
            throw std::runtime_error("launch: cannot start rank " + std::to_string(rank) + ": " + std::strerror(error));
        }
        running[pid] = rank;
    }

    // Watch. After the first failure the others get `graceSeconds` to notice it themselves (within
    // c10d's time-out; rank 0 then records the run as failed, with the reason), then SIGTERM, then
    // SIGKILL: no process outlives the launcher.
    using Clock = std::chrono::steady_clock;
    int exitCode = 0;
    std::string failure;
    Clock::time_point termAt = Clock::time_point::max();
    Clock::time_point killAt = Clock::time_point::max();
    auto stopOthersAfter = [&](Clock::duration grace) {
        termAt = std::min(termAt, Clock::now() + grace);
        killAt = termAt + std::chrono::seconds(LaunchOptions::kTermSeconds);
    };
    while (!running.empty()) {
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, WNOHANG);
        if (pid > 0 && running.count(pid)) {
            const int rank = running[pid];
            running.erase(pid);
            if (exitCodeOf(status) != 0 && failure.empty()) {
                failure
                    = "rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + ") " + describeStatus(status);
                exitCode = exitCodeOf(status);
                if (!running.empty()) {
                    std::fprintf(stderr, "tfreeze launch: %s; the other %zu get %d s to stop\n", failure.c_str(),
                        running.size(), options.graceSeconds);
                    stopOthersAfter(std::chrono::seconds(options.graceSeconds));
                }
            }
            continue;
        }
        // Ctrl-C reached the children from the terminal already; SIGTERM has to be passed on.
        if (g_forwardSignal.exchange(0) == SIGTERM)
            stopOthersAfter(Clock::duration::zero());
        if (Clock::now() >= termAt) {
            for (const auto& [other, rank] : running)
                ::kill(other, SIGTERM);
            termAt = Clock::time_point::max();
        }
        if (Clock::now() >= killAt) {
            for (const auto& [other, rank] : running)
                ::kill(other, SIGKILL);
            killAt = Clock::time_point::max();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (!failure.empty()) {
        std::fprintf(stderr, "tfreeze launch: failed: %s\n", failure.c_str());
        std::fflush(nullptr);
        std::exit(exitCode); // the failed rank's status, as torchrun forwards it
    }
}

} // namespace

void addLaunchCommands(CommandSet& commands)
{
    auto launch = CommandSet::makeOptions<LaunchOptions>();
    CLI::App* command = commands.app().add_subcommand("launch",
        "Run a tfreeze command as N local processes, one per pipeline rank, with torchrun's variables "
        "(e.g. tfreeze launch --nproc 4 -- train --config FILE); the first rank to fail stops the others");
    command->add_option("--nproc", launch->nproc, "Number of processes (the config's schedule.ranks)")
        ->check(CLI::Range(1, 1024))
        ->capture_default_str();
    command->add_option("--master-port", launch->masterPort, "Port of rank 0's store (default: a free port)")
        ->check(CLI::Range(1, 65535));
    command->add_option("--master-addr", launch->masterAddr, "Address of rank 0's store")->capture_default_str();
    command
        ->add_option("--grace", launch->graceSeconds,
            "After a rank fails, seconds the others get to stop on their own before SIGTERM (SIGKILL 5 s later)")
        ->check(CLI::Range(0, 3600))
        ->capture_default_str();
    command->add_option("command", launch->command, "The tfreeze command to run, after --")->required();
    commands.add(command, [launch] { runLaunch(*launch); });
}

} // namespace tfreeze
