// tfreeze: the command-line front of TimelyFreeze Studio. Each area registers its commands in a
// CommandSet (command_set.h); this file maps every failure to an exit code: 0 ok, 2 bad input,
// 1 internal failure, 130 a plan stopped with Ctrl-C.
#include "app/tfreeze/command_set.h"
#include "app/tfreeze/launch_commands.h"
#ifdef TFREEZE_WITH_ENGINE
#include "app/tfreeze/train_commands.h"
#else
#include "app/tfreeze/engine_commands.h"
#endif

#include "core/plan/lp_model.h"
#include "core/plan/plan_error.h"
#include "core/store/sqlite_connection.h"
#ifdef TFREEZE_WITH_ENGINE
#include "core/engine/training_session.h"
#endif

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <string>

namespace {

constexpr int kExitBadInput = 2;
constexpr int kExitInternal = 1;
constexpr int kExitInterrupted = 130; // the shell's 128 + SIGINT

// tfreeze's version and those of the libraries that decide its results, as a bug report needs them.
std::string versionText()
{
    std::string text = std::string("tfreeze ") + TFREEZE_VERSION + "\nlp_solve " + tfreeze::lpSolveVersion()
        + "\nSQLite " + tfreeze::sqliteLibraryVersion();
#ifdef TFREEZE_WITH_ENGINE
    text += "\nLibTorch " + tfreeze::libtorchVersion();
#elif defined(TFREEZE_ENGINE_FORWARD)
    text += "\nLibTorch " TFREEZE_LIBTORCH_VERSION " (in tfreeze-engine, which runs train, bench train and doctor)";
#else
    text += "\nLibTorch: not built in (tfreeze train is absent)";
#endif
    return text;
}

int reportError(const char* what, int exitCode)
{
    std::cerr << "tfreeze: error: " << what << '\n';
    return exitCode;
}

int run(int argc, char** argv)
{
#ifndef TFREEZE_WITH_ENGINE
    // Before parsing: tfreeze-engine parses the command itself (its help and errors included).
    if (const tfreeze::EngineCommand* command = tfreeze::findEngineCommand(argc, argv)) {
#ifdef TFREEZE_ENGINE_FORWARD
        return reportError(tfreeze::execEngine(*command, argv).c_str(), kExitInternal);
#else
        const std::string message = tfreeze::commandText(*command)
            + " needs the LibTorch engine, which this build leaves out (configure with -DTFREEZE_ENGINE=ON)";
        return reportError(message.c_str(), kExitInternal);
#endif
    }
#endif
    CLI::App app { "TimelyFreeze: plan which weight-gradient work to freeze in pipeline-parallel training", "tfreeze" };
    app.require_subcommand(1);
    app.set_version_flag(
        "--version", versionText, "Print the versions of tfreeze, lp_solve, SQLite and LibTorch and exit");
    // Wide enough that the flags with a type tag keep their description on the same line.
    app.get_formatter()->column_width(36);

    tfreeze::CommandSet commands(app);
    tfreeze::addPlanningCommands(commands);
    tfreeze::addStoreCommands(commands);
    tfreeze::addTraceCommands(commands);
#ifdef TFREEZE_WITH_ENGINE
    tfreeze::addTrainCommands(commands);
#else
    tfreeze::addEngineCommandEntries(commands);
#endif
    tfreeze::addLaunchCommands(commands);

    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& success) {
        return app.exit(success); // --help or --version: prints it, exit code 0
    } catch (const CLI::ParseError& error) {
        const std::string unknown = commands.unknownCommandMessage(argc, argv);
        return reportError(unknown.empty() ? error.what() : unknown.c_str(), kExitBadInput);
    }

    try {
        commands.runParsed();
        return 0;
    } catch (const tfreeze::InputError& error) {
        return reportError(error.what(), kExitBadInput);
    } catch (const tfreeze::PlanCancelled& error) {
        std::cerr << "tfreeze: " << error.what() << "; nothing written\n";
        return kExitInterrupted;
    } catch (const tfreeze::PlannerError& error) {
        return reportError(error.what(), kExitInternal);
    } catch (const std::exception& error) {
        return reportError(error.what(), kExitInternal);
    } catch (...) {
        return reportError("unknown internal failure", kExitInternal);
    }
}

} // namespace

int main(int argc, char** argv)
{
    // Setting up the command line can throw as well (CLI11's construction errors): still an exit code.
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {
        return reportError(error.what(), kExitInternal);
    } catch (...) {
        return reportError("unknown internal failure", kExitInternal);
    }
}
