// Writes a small run database for the CLI tests: run 1 "baseline" and run 2 "frozen" (finished,
// 30 steps each, evals every 10 steps, run 2 with an engine plan), then optionally sets
// PRAGMA user_version, as a newer tfreeze would.
//   make_store_fixture DB [USER_VERSION]
// Or copies a database and damages the copy, as a bad disk or a cut-off copy would: COUNT bytes at
// OFFSET overwritten with a fixed pattern (the same damage on every run), or without COUNT the copy
// cut to OFFSET bytes.
//   make_store_fixture --damage SOURCE DEST OFFSET [COUNT]
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"

#include "store_test_support.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace {

int damageCopy(int argc, char** argv)
{
    if (argc != 5 && argc != 6) {
        std::fprintf(stderr, "usage: make_store_fixture --damage SOURCE DEST OFFSET [COUNT]\n");
        return 2;
    }
    std::string bytes = tfreeze::test::readBytes(argv[2]);
    const std::size_t offset = std::stoul(argv[4]);
    if (offset > bytes.size()) {
        std::fprintf(stderr, "%s: offset %zu is past its %zu bytes\n", argv[2], offset, bytes.size());
        return 1;
    }
    if (argc == 5) {
        bytes.resize(offset);
    } else {
        const std::size_t count = std::min<std::size_t>(std::stoul(argv[5]), bytes.size() - offset);
        for (std::size_t i = 0; i < count; ++i)
            bytes[offset + i] = static_cast<char>((i * 37 + 11) % 256);
    }
    tfreeze::test::writeBytes(argv[3], bytes);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc >= 2 && std::string(argv[1]) == "--damage")
        return damageCopy(argc, argv);
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: make_store_fixture DB [USER_VERSION]\n");
        return 2;
    }
    using namespace tfreeze;
    const std::string path = argv[1];
    for (const char* name : { "baseline", "frozen" }) {
        const bool frozen = std::string(name) == "frozen";
        const std::int64_t run = RunStore(path).beginRun(test::newRun(name, R"({"ranks":4,"microbatches":8})"));
        RunRecorder recorder(path, run);
        for (std::int64_t step = 0; step < 30; ++step) {
            if (frozen && step == 20)
                recorder.publish(PlanApplied { 19, 20, PlanSource::Engine, test::makePlan() });
            for (ActionSpan span : test::makeSpans(step)) {
                if (frozen && span.kind == ActionKind::Backward)
                    span.endUs -= 10; // frozen backwards are shorter
                recorder.publish(span);
            }
            StepStats stats = test::makeStep(step);
            if (frozen)
                stats.tokensPerSecond *= 1.2;
            recorder.publish(stats);
            if (step % 10 == 9)
                recorder.publish(EvalStats { step, 2.5 - 0.1 * static_cast<double>(step / 10), 12.0, 0.4, -1.0 });
        }
        recorder.publish(RunEvent { EventLevel::Info, "finished 30 steps" });
        recorder.publish(RunFinished { 30, std::nullopt });
        recorder.close();
        if (recorder.error()) {
            std::fprintf(stderr, "%s\n", recorder.error()->c_str());
            return 1;
        }
    }
    if (argc == 3) {
        sqlite3* db = nullptr;
        const std::string sql = "PRAGMA user_version = " + std::to_string(std::stoi(argv[2]));
        if (sqlite3_open(path.c_str(), &db) != SQLITE_OK
            || sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
            std::fprintf(stderr, "%s: cannot set user_version\n", path.c_str());
            return 1;
        }
        sqlite3_close(db);
    }
    return 0;
}
