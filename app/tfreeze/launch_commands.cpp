// tfreeze launch: a local torchrun. The first rank to fail ends the job: the others get a grace period,
// then SIGTERM, then SIGKILL, so that no process outlives the launcher's answer.
#include "app/tfreeze/launch_commands.h"

#include "app/tfreeze/command_set.h"
#include "core/engine/loopback_port.h"
#include "core/plan/plan_error.h"

#include <CLI/CLI.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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

bool isJobVariable(const std::string& entry)
{
    static constexpr std::array names {
        "RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT="
    };
    return std::any_of(names.begin(), names.end(), [&entry](const char* name) { return entry.rfind(name, 0) == 0; });
}

// A NULL-terminated array of pointers into `strings` (which must outlive it), for posix_spawn.
std::vector<char*> pointersTo(std::vector<std::string>& strings)
{
    std::vector<char*> pointers;
    pointers.reserve(strings.size() + 1);
    for (std::string& text : strings)
        pointers.push_back(text.data());
    pointers.push_back(nullptr);
    return pointers;
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

// Starts rank 0 … nproc − 1 of `tfreeze COMMAND` with torchrun's variables; pid → rank. On a
// failed start, the ranks already started are killed.
std::map<pid_t, int> startRanks(const LaunchOptions& options, int port)
{
    const std::string self = selfPath();
    std::vector<std::string> inherited;
    for (char** entry = environ; *entry; ++entry)
        if (!isJobVariable(*entry))
            inherited.emplace_back(*entry);
    std::vector<std::string> arguments { "tfreeze" };
    arguments.insert(arguments.end(), options.command.begin(), options.command.end());
    std::vector<char*> argv = pointersTo(arguments);

    std::map<pid_t, int> running;
    for (int rank = 0; rank < options.nproc; ++rank) {
        std::vector<std::string> variables = inherited;
        for (std::string variable : { "RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank),
                 "WORLD_SIZE=" + std::to_string(options.nproc), "LOCAL_WORLD_SIZE=" + std::to_string(options.nproc),
                 "MASTER_ADDR=" + options.masterAddr, "MASTER_PORT=" + std::to_string(port) })
            variables.push_back(std::move(variable));
        std::vector<char*> envp = pointersTo(variables);
        pid_t pid = -1;
        const int error = ::posix_spawn(&pid, self.c_str(), nullptr, nullptr, argv.data(), envp.data());
        if (error != 0) {
            for (const auto& [started, r] : running)
                ::kill(started, SIGKILL);
            throw std::runtime_error("launch: cannot start rank " + std::to_string(rank) + ": " + std::strerror(error));
        }
        running[pid] = rank;
    }
    return running;
}

// Watches the ranks until all ended. After the first failure the others get `graceSeconds` to
// notice it themselves (within c10d's time-out; rank 0 then records the run as failed, with the
// reason), then SIGTERM, then SIGKILL: no process outlives the launcher.
class RankWatch {
public:
    RankWatch(std::map<pid_t, int> running, int graceSeconds)
        : m_running(std::move(running))
        , m_graceSeconds(graceSeconds)
    {
    }

    // Until every rank ended; the first failure ("rank r (pid p) exited with code c"), or empty.
    std::string run()
    {
        while (!m_running.empty()) {
            int status = 0;
            const pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid > 0 && m_running.count(pid) != 0) {
                ended(pid, status);
                continue;
            }
            // Ctrl-C reached the children from the terminal already; SIGTERM has to be passed on.
            if (g_forwardSignal.exchange(0) == SIGTERM)
                stopOthersAfter(Clock::duration::zero());
            signalWhenDue(m_termAt, SIGTERM);
            signalWhenDue(m_killAt, SIGKILL);
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return m_failure;
    }

    int exitCode() const { return m_exitCode; }

private:
    using Clock = std::chrono::steady_clock;

    void ended(pid_t pid, int status)
    {
        const int rank = m_running[pid];
        m_running.erase(pid);
        if (exitCodeOf(status) == 0 || !m_failure.empty())
            return;
        m_failure = "rank " + std::to_string(rank) + " (pid " + std::to_string(pid) + ") " + describeStatus(status);
        m_exitCode = exitCodeOf(status);
        if (!m_running.empty()) {
            std::fprintf(stderr, "tfreeze launch: %s; the other %zu get %d s to stop\n", m_failure.c_str(),
                m_running.size(), m_graceSeconds);
            stopOthersAfter(std::chrono::seconds(m_graceSeconds));
        }
    }

    void stopOthersAfter(Clock::duration grace)
    {
        m_termAt = std::min(m_termAt, Clock::now() + grace);
        m_killAt = m_termAt + std::chrono::seconds(LaunchOptions::kTermSeconds);
    }

    void signalWhenDue(Clock::time_point& due, int signal)
    {
        if (Clock::now() < due)
            return;
        for (const auto& [pid, rank] : m_running)
            ::kill(pid, signal);
        due = Clock::time_point::max();
    }

    std::map<pid_t, int> m_running; // pid → rank
    int m_graceSeconds;
    std::string m_failure;
    int m_exitCode = 0;
    Clock::time_point m_termAt = Clock::time_point::max();
    Clock::time_point m_killAt = Clock::time_point::max();
};

void runLaunch(const LaunchOptions& options)
{
    if (options.command.empty())
        throw InputError("launch", "COMMAND", "give the tfreeze command to run after --, e.g. -- train --config FILE");
    const int port = options.masterPort > 0 ? options.masterPort : freeLoopbackPort();
    std::fprintf(
        stderr, "tfreeze launch: %d processes, master %s:%d\n", options.nproc, options.masterAddr.c_str(), port);
    std::signal(SIGINT, onLauncherSignal);
    std::signal(SIGTERM, onLauncherSignal);
    RankWatch watch(startRanks(options, port), options.graceSeconds);
    const std::string failure = watch.run();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (!failure.empty()) {
        std::fprintf(stderr, "tfreeze launch: failed: %s\n", failure.c_str());
        std::fflush(nullptr);
        std::exit(watch.exitCode()); // the failed rank's status, as torchrun forwards it
    }
}

} // namespace

std::string selfPath()
{
    std::string path(4096, '\0');
    const ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
    if (length <= 0)
        throw std::runtime_error("cannot find the tfreeze executable (/proc/self/exe)");
    path.resize(static_cast<std::size_t>(length));
    return path;
}

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
