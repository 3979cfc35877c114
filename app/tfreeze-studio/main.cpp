#include <QApplication>
#include <QCommandLineParser>

#ifdef TFREEZE_WITH_ENGINE
#include "ui/live_run_bench.h"
#endif

#include <cstdio>

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QCommandLineParser parser;
    parser.addHelpOption();
    const QCommandLineOption bench(QStringLiteral("bench"),
        QStringLiteral("Run a studio benchmark and print its figures: live (a small training run through the "
                       "engine adapter; GUI stalls and telemetry updates a second)."),
        QStringLiteral("name"));
    const QCommandLineOption steps(QStringLiteral("steps"),
        QStringLiteral("Steps of the benchmark's run (default 200)."), QStringLiteral("n"), QStringLiteral("200"));
    parser.addOption(bench);
    parser.addOption(steps);
    parser.process(app);

    if (parser.isSet(bench)) {
        if (parser.value(bench) != QStringLiteral("live")) {
            std::fprintf(stderr, "unknown benchmark \"%s\" (expected live)\n", qPrintable(parser.value(bench)));
            return 2;
        }
#ifdef TFREEZE_WITH_ENGINE
        bool ok = false;
        const int stepCount = parser.value(steps).toInt(&ok);
        if (!ok || stepCount < 1) {
            std::fprintf(stderr, "--steps: expected a positive number\n");
            return 2;
        }
        const tfreeze::LiveRunBenchResult result = tfreeze::runLiveRunBench(stepCount);
        std::printf("%s", qPrintable(tfreeze::liveRunBenchReport(result)));
        return result.finished ? 0 : 1;
#else
        std::fprintf(stderr, "this build has no engine (configured with TFREEZE_ENGINE=OFF)\n");
        return 2;
#endif
    }
    return 0;
}
