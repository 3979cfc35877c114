#include "app/tfreeze/trace_commands.h"

#include "app/tfreeze/cli_validators.h"
#include "app/tfreeze/command_set.h"
#include "app/tfreeze/text_table.h"
#include "core/export/trace_import.h"
#include "core/plan/profile_io.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <map>
#include <ostream>

namespace tfreeze {

namespace {

} // namespace

CLI::App* addImportTraceCommand(CLI::App& importGroup, ImportTraceOptions& options)
{
    CLI::App* command = importGroup.add_subcommand(
        "trace", "Build a profile from a Chrome trace of a pipeline run measured elsewhere (JSON or gzip)");
    command->footer(
        "The trace's compute events are X or B/E events named like PyTorch pipelining actions,\n"
        "{stage}{F|B|I|W}{microbatch} (e.g. 2F0, 1W3), with one process or one thread per rank; ts and dur are\n"
        "in microseconds. A rank's batches begin at the forward of microbatch 0 on its first stage: its order is\n"
        "that of its first complete batch, and each action's max_ms is its median duration over the trace.");
    command->add_option("trace", options.tracePath, "Chrome trace: {\"traceEvents\": [...]} or [...], .json or .gz")
        ->required();
    command->add_option("--out", options.outPath, "Write the profile (tfreeze-profile/1 JSON) to this file");
    command
        ->add_option("--frozen-fraction", options.frozenFraction,
            "A trace without freeze ratios (args frozen/total, as tfreeze's own export writes) measures only "
            "unfrozen time: assume a fully frozen B or W takes this fraction of it (min_ms = f * max_ms). "
            "The default 1 assumes no gain, so plans freeze nothing; F and I never change")
        ->check(unitInterval())
        ->capture_default_str();
    return command;
}

void runImportTrace(const ImportTraceOptions& options, std::ostream& out)
{
    TraceImportOptions importOptions;
    importOptions.frozenFraction = options.frozenFraction;
    const TraceImport imported = importTraceProfile(options.tracePath, importOptions);
    const PipelineSchedule& schedule = imported.profile.schedule();

    out << options.tracePath << ": " << schedule.rankCount() << " ranks (one " << traceRankKeyName(imported.rankKey)
        << " each), " << schedule.stageCount() << " stages (" << schedule.shape().stagesPerRank << " per rank), "
        << schedule.microbatchCount() << " microbatches, " << schedule.actionCount() << " actions, " << imported.batches
        << " steps seen (" << imported.actionEventCount << " compute events of " << imported.eventCount << ")\n";
    out << "freezing: "
        << (imported.freezeFromTrace
                   ? "min_ms fitted from the freeze ratios recorded in the trace"
                   : "min_ms = " + formatFixed(options.frozenFraction, 2) + " * max_ms for B and W (--frozen-fraction)")
        << "\n\n";

    TextTable table;
    table.addColumn("rank");
    table.addColumn("trace", TextTable::Align::Left);
    table.addColumn("stages", TextTable::Align::Left);
    table.addColumn("actions");
    table.addColumn("busy ms");
    const std::vector<Action> actions = imported.profile.actions();
    std::map<int, double> busyMs;
    for (std::size_t i = 0; i < actions.size(); ++i)
        busyMs[actions[i].rank] += imported.profile.costs()[i].maxMs;
    for (int rank = 0; rank < schedule.rankCount(); ++rank) {
        table.addRow({ std::to_string(rank), imported.rankLabels.at(static_cast<std::size_t>(rank)),
            rankStagesText(schedule, rank), std::to_string(schedule.rankOrder(rank).size()),
            formatFixed(busyMs[rank], 3) });
    }
    table.print(out);

    if (!options.outPath.empty()) {
        writeProfileFile(imported.profile, options.outPath);
        out << "\nwrote " << options.outPath << '\n';
    }
}

void addTraceCommands(CommandSet& commands)
{
    auto importTrace = CommandSet::makeOptions<ImportTraceOptions>();
    CLI::App& importGroup = commands.group("import", "Read data measured elsewhere");
    commands.add(
        addImportTraceCommand(importGroup, *importTrace), [importTrace] { runImportTrace(*importTrace, std::cout); });
}

} // namespace tfreeze
