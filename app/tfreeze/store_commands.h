#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tfreeze {

// Options of the run-history commands: runs list|show|delete|rename|notes|compare, export plan|metrics, bench
// store. Every command takes --db (default runs/history.sqlite).
struct RunsListOptions {
    std::string dbPath;
    std::string status;
    std::int64_t limit = 0; // 0: all
    bool json = false; // --json: the runs as JSON for scripts, not a table
};

struct RunIdOptions {
    std::string dbPath;
    std::int64_t run = 0;
    bool json = false; // runs show --json
};

// runs delete ID...
struct RunIdsOptions {
    std::string dbPath;
    std::vector<std::int64_t> runs;
};

// runs rename ID NAME, runs notes ID TEXT.
struct RunTextOptions {
    std::string dbPath;
    std::int64_t run = 0;
    std::string text;
};

struct RunsCompareOptions {
    std::string dbPath;
    std::int64_t a = 0;
    std::int64_t b = 0;
};

struct ExportPlanOptions {
    std::string dbPath;
    std::int64_t plan = 0;
    std::string format = "json";
    std::string outPath;
};

struct ExportMetricsOptions {
    std::string dbPath;
    std::int64_t run = 0;
    std::string outPath;
};

struct BenchStoreOptions {
    std::int64_t spans = 1'000'000; // written for the throughput figure
    int repeat = 3; // throughput runs; the figure is their median
    std::int64_t steps = 100'000; // of the retained database for the size and query figures
    int queries = 200;
    std::string dir; // where the bench databases go (default: a new folder under /tmp)
    bool keep = false;
};

// Records `plan` (a tfreeze-plan/1 FreezePlan) as an offline plan; returns its id. For `tfreeze plan --db`.
struct FreezePlan;
std::int64_t recordOfflinePlan(const std::string& dbPath, const FreezePlan& plan);

} // namespace tfreeze
