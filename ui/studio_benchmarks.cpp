#include "ui/studio_benchmarks.h"

#include "core/plan/pipeline_schedule.h"
#include "core/plan/profile_io.h"
#include "core/plan/synthetic_profile.h"
#include "core/store/run_recorder.h"
#include "core/store/run_store.h"
#include "core/store/synthetic_run.h"
#include "ui/bounds_panel.h"
#include "ui/event_loop_stall_monitor.h"
#include "ui/main_window.h"
#include "ui/rho_drag_bench.h"
#include "ui/timeline_bench.h"
#include "ui/timeline_view.h"
#ifdef TFREEZE_WITH_ENGINE
#include "core/engine/run_config.h"
#include "ui/engine_controller.h"
#include "ui/live_run_bench.h"
#include "ui/new_run_dialog.h"
#endif

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QSlider>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tfreeze {

namespace {

double statusField(const char* field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return 0.0;
    const QByteArray key = QByteArray(field) + ':';
    for (const QByteArray& line : status.readAll().split('\n'))
        if (line.startsWith(key))
            return line.mid(key.size()).trimmed().split(' ').first().toDouble() / 1024.0; // kB → MB
    return 0.0;
}

// Waits on the event loop until `done` or `timeoutMs`; false on a time-out.
template <typename Predicate> bool waitUntil(Predicate done, int timeoutMs)
{
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    }
    return true;
}

int benchTimeline()
{
    const TimelineBenchResult result = runTimelineBench(31);
    std::printf("%s", qPrintable(timelineBenchReport(result)));
    return 0;
}

// The same drag end to end in the main window: from the slider's new value to the predicted
// timeline repainted with the new plan.
struct WindowDragFigures {
    std::vector<double> latencyMs;
    int timeouts = 0;
};

WindowDragFigures dragInMainWindow(int steps)
{
    WindowDragFigures figures;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("profile-1024.json"));
    const PipelineSchedule schedule = PipelineSchedule::generate({ ScheduleKind::OneFOneB, 8, 64, 1 });
    writeProfileFile(makeSyntheticProfile(schedule, SyntheticCosts {}), path.toStdString());
    MainWindow window;
    window.setDatabasePath(dir.filePath(QStringLiteral("unused.sqlite")));
    window.resize(1920, 1080);
    window.show();
    window.openFile(path);
    if (!waitUntil([&] { return window.candidatePlan() != nullptr; }, 120'000))
        throw std::runtime_error("the first plan did not arrive within 120 s");
    QSlider* slider = window.boundsPanel()->maxFreezeSlider();
    for (int i = 0; i < steps; ++i) {
        const int value = 900 - (i + 1) * 800 / steps; // ρ from 0.9 down towards 0.1
        QElapsedTimer timer;
        timer.start();
        slider->setValue(value);
        const double rho = static_cast<double>(value) / BoundsPanel::sliderSteps;
        const bool arrived
            = waitUntil([&] { return std::abs(window.candidatePlan()->bounds.maxFreeze - rho) < 1e-12; }, 10'000);
        window.timelineView()->repaint();
        if (arrived)
            figures.latencyMs.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
        else
            ++figures.timeouts;
    }
    return figures;
}

int benchRho()
{
    constexpr int kSteps = 50;
    const RhoDragBenchResult result = runRhoDragBench(kSteps);
    std::printf("%s", qPrintable(result.toText()));
    WindowDragFigures window = dragInMainWindow(kSteps);
    std::sort(window.latencyMs.begin(), window.latencyMs.end());
    if (window.latencyMs.empty()) {
        std::printf("main window: no plan arrived (%d time-outs)\n", window.timeouts);
        return 1;
    }
    std::printf("main window, slider value -> predicted timeline repainted (1024 actions, %d values):\n"
                "  median %.1f ms, max %.1f ms (target <= 150 ms), time-outs %d\n",
        kSteps, window.latencyMs[window.latencyMs.size() / 2], window.latencyMs.back(), window.timeouts);
    return result.failures == 0 && window.timeouts == 0 ? 0 : 1;
}

// Writes a 10,000-step run shaped like the default one, with the run store's span retention.
qint64 writeLongRun(const QString& path, std::int64_t steps)
{
    const std::int64_t run = RunStore(path.toStdString()).beginRun({ "bench memory", "{}", "bench" });
    RunRecorder recorder(path.toStdString(), run);
    for (std::int64_t step = 0; step < steps; ++step) {
        publishSyntheticStep(recorder, step);
        if (step % 50 == 49)
            recorder.publish(EvalStats { step, 2.0, 7.4, 0.4, -1.0 });
    }
    recorder.publish(RunFinished { steps, std::nullopt });
    recorder.close();
    if (recorder.error())
        throw std::runtime_error(*recorder.error());
    return run;
}

int benchMemory()
{
    constexpr std::int64_t kSteps = 10'000;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("memory.sqlite"));
    const qint64 run = writeLongRun(path, kSteps);
    const double before = residentMegabytes();
    MainWindow window;
    window.setDatabasePath(path);
    window.resize(1920, 1080);
    window.show();
    int loaded = 0;
    int displayed = 0;
    QObject::connect(&window, &MainWindow::documentLoaded, &window, [&] { ++loaded; });
    QObject::connect(&window, &MainWindow::stepDisplayed, &window, [&] { ++displayed; });
    window.openHistoryRun(run);
    if (!waitUntil([&] { return loaded > 0; }, 120'000)) {
        std::fprintf(stderr, "bench memory: the run did not load within 120 s\n");
        return 1;
    }
    const double opened = residentMegabytes();
    // Browse every 10th recorded step's timeline, as a user dragging the step slider would.
    const std::vector<std::int64_t> steps = window.recordedSteps();
    int browsed = 0;
    for (std::size_t index = 0; index < steps.size(); index += 10) {
        const int before = displayed;
        window.showStep(steps[index]);
        waitUntil([&] { return displayed > before; }, 30'000);
        ++browsed;
    }
    std::printf("bench memory: a %lld-step run from the history open in the main window (1920×1080)\n",
        static_cast<long long>(kSteps));
    std::printf("  resident before opening      %8.1f MB\n", before);
    std::printf("  resident with the run open   %8.1f MB\n", opened);
    std::printf("  resident after browsing %3d step timelines %6.1f MB\n", browsed, residentMegabytes());
    std::printf("  peak resident                %8.1f MB   (target <= 400 MB)\n", peakResidentMegabytes());
    return 0;
}

#ifdef TFREEZE_WITH_ENGINE
// The same small, fast run (hundreds of steps a second at most: the hardest case for the GUI)
// twice: through the engine adapter alone, then in the whole main window with its timeline,
// charts, status bar and run history, so that the window's own cost shows side by side.
int benchLive()
{
    constexpr int kSteps = 300;
    const LiveRunBenchResult adapter = runLiveRunBench(kSteps);

    QTemporaryDir dir;
    RunConfig config = liveRunBenchConfig(kSteps);
    config.output.db = dir.filePath(QStringLiteral("live.sqlite")).toStdString();
    MainWindow window;
    window.setDatabasePath(QString::fromStdString(config.output.db));
    window.resize(1920, 1080);
    window.show();
    int updates = 0;
    QObject::connect(&window, &MainWindow::liveViewsUpdated, &window, [&] { ++updates; });
    EventLoopStallMonitor monitor(5);
    monitor.start();
    QElapsedTimer timer;
    timer.start();
    window.startRun(config, QStringLiteral("bench live"));
    const auto ended = [&] {
        const auto state = window.engine()->state();
        return state == EngineController::State::Finished || state == EngineController::State::Failed;
    };
    const bool finished = waitUntil(ended, 1'800'000) && window.engine()->state() == EngineController::State::Finished;
    const double seconds = static_cast<double>(timer.elapsed()) / 1000.0;
    monitor.stop();

    std::printf("bench live: %d steps of a tiny 2-rank run, side by side\n", kSteps);
    std::printf("                                  adapter alone   main window (1920×1080)\n");
    std::printf(
        "  finished                        %13s   %s\n", adapter.finished ? "yes" : "NO", finished ? "yes" : "NO");
    std::printf("  wall time                       %11.1f s   %.1f s\n", adapter.wallSeconds, seconds);
    std::printf("  view updates per second         %13.1f   %.1f   (target <= 30)\n", adapter.updatesPerSecond,
        static_cast<double>(updates) / seconds);
    std::printf("  longest GUI event-loop stall    %10.1f ms   %.1f ms   (target <= 50 ms)\n", adapter.longestStallMs,
        monitor.longestStallMs());
    std::printf("  stalls over 50 ms               %13d   %d\n", adapter.stallsOver50Ms, monitor.stallsOver(50.0));
    std::printf("  peak resident                   %27.1f MB\n", peakResidentMegabytes());
    return adapter.finished && finished ? 0 : 1;
}
#endif

} // namespace

double residentMegabytes() { return statusField("VmRSS"); }
double peakResidentMegabytes() { return statusField("VmHWM"); }

int runStudioBenchmark(const QString& name)
{
    try {
        if (name == QLatin1String("timeline"))
            return benchTimeline();
        if (name == QLatin1String("rho"))
            return benchRho();
        if (name == QLatin1String("memory"))
            return benchMemory();
        if (name == QLatin1String("live")) {
#ifdef TFREEZE_WITH_ENGINE
            return benchLive();
#else
            std::fprintf(stderr, "bench live needs the engine (built with TFREEZE_ENGINE=OFF)\n");
            return 1;
#endif
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench %s: %s\n", qPrintable(name), error.what());
        return 1;
    }
    std::fprintf(
        stderr, "tfreeze-studio --bench: unknown benchmark '%s' (timeline, rho, live or memory)\n", qPrintable(name));
    return 2;
}

} // namespace tfreeze
