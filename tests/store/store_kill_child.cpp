// Child of tst_storekill: records a run until it is killed, printing "run <id>" once and then
// "committed <step>" after every commit, so the parent knows what must survive a SIGKILL.
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"

#include "store_test_support.h"

#include <chrono>
#include <cstdio>
#include <thread>

int main(int argc, char** argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: store_kill_child DB\n");
        return 2;
    }
    using namespace tfreeze;
    const std::int64_t run = RunStore(argv[1]).beginRun(test::newRun("killed mid-run"));
    std::printf("run %lld\n", static_cast<long long>(run));
    std::fflush(stdout);
    RunRecorderOptions options;
    options.commitInterval = std::chrono::milliseconds(20);
    options.onCommitted = [](std::int64_t step) {
        std::printf("committed %lld\n", static_cast<long long>(step));
        std::fflush(stdout);
    };
    RunRecorder recorder(argv[1], run, options);
    for (std::int64_t step = 0;; ++step) {
        for (const ActionSpan& span : test::makeSpans(step))
            recorder.publish(span);
        recorder.publish(test::makeStep(step));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}
