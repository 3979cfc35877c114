#include "ui/timeline_bench.h"

#include "core/plan/pipeline_schedule.h"
#include "core/plan/synthetic_profile.h"
#include "ui/timeline_data.h"
#include "ui/timeline_view.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <functional>
#include <vector>

namespace tfreeze {

namespace {

constexpr int kRanks = 64;
constexpr int kMicrobatches = 512;
constexpr int kWidth = 1920;
constexpr int kHeight = 1080;
constexpr double kTargetMs = 16.0;

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 != 0 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

// Median wall time of `render` after `prepare`, which is not timed.
double medianMs(int repeats, const std::function<void()>& prepare, const std::function<void()>& render)
{
    std::vector<double> times;
    times.reserve(static_cast<std::size_t>(repeats));
    for (int i = 0; i < repeats; ++i) {
        prepare();
        QElapsedTimer timer;
        timer.start();
        render();
        times.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
    return median(std::move(times));
}

} // namespace

TimelineBenchResult runTimelineBench(int repeats)
{
    repeats = std::max(1, repeats);
    ScheduleShape shape;
    shape.kind = ScheduleKind::OneFOneB;
    shape.ranks = kRanks;
    shape.microbatches = kMicrobatches;
    SyntheticCosts costs;
    costs.jitter = 0.1; // uneven bars, as measured ones are
    costs.seed = 7;
    const Profile profile = makeSyntheticProfile(PipelineSchedule::generate(shape), costs);
    TimelineData data = timelineFromProfile(profile);

    TimelineBenchResult result;
    result.ranks = kRanks;
    result.microbatches = kMicrobatches;
    result.bars = data.bars.size();
    result.width = kWidth;
    result.height = kHeight;
    result.repeats = repeats;

    TimelineView view;
    view.resize(kWidth, kHeight);
    view.setMeasured(std::move(data));
    const QSize size(kWidth, kHeight);
    QImage sink;
    const auto render = [&] { sink = view.renderToImage(size); };
    const double total = view.mapping().totalMs();

    result.fullRepaintMs = medianMs(
        repeats, [&] { view.zoomToFit(); }, render);

    const double zoomedSpan = total / 32.0;
    const double zoomedStart = total / 2.0 - zoomedSpan / 2.0;
    result.zoomedRepaintMs = medianMs(
        repeats, [&] { view.setVisibleRange(zoomedStart, zoomedStart + zoomedSpan); }, render);

    view.setVisibleRange(zoomedStart, zoomedStart + zoomedSpan);
    result.panStepMs = medianMs(
        repeats,
        [&] {
            const auto [start, end] = view.visibleRange();
            const double step = 50.0 * view.mapping().msPerPixel();
            if (end + step > total)
                view.setVisibleRange(zoomedStart, zoomedStart + zoomedSpan);
            else
                view.setVisibleRange(start + step, end + step);
        },
        render);

    view.setLevelOfDetail(false);
    result.fullRepaintNoLevelOfDetailMs = medianMs(
        repeats, [&] { view.zoomToFit(); }, render);
    return result;
}

QString timelineBenchReport(const TimelineBenchResult& r)
{
    const auto ms = [](double value) { return QString::number(value, 'f', 2); };
    QString text = QCoreApplication::translate(
        "TimelineBench", "timeline bench: %1 ranks x %2 microbatches 1F1B, %3 bars, %4x%5 offscreen, median of %6\n")
                       .arg(r.ranks)
                       .arg(r.microbatches)
                       .arg(r.bars)
                       .arg(r.width)
                       .arg(r.height)
                       .arg(r.repeats);
    text += QCoreApplication::translate("TimelineBench", "  full repaint          %1 ms (target <= %2 ms: %3)\n")
                .arg(ms(r.fullRepaintMs), ms(kTargetMs),
                    r.fullRepaintMs <= kTargetMs ? QCoreApplication::translate("TimelineBench", "met")
                                                 : QCoreApplication::translate("TimelineBench", "NOT met"));
    text += QCoreApplication::translate("TimelineBench", "  zoomed-in repaint     %1 ms\n").arg(ms(r.zoomedRepaintMs));
    text += QCoreApplication::translate("TimelineBench", "  pan step (50 px)      %1 ms\n").arg(ms(r.panStepMs));
    text += QCoreApplication::translate("TimelineBench", "  full, no LOD          %1 ms (LOD speed-up %2x)\n")
                .arg(ms(r.fullRepaintNoLevelOfDetailMs), QString::number(r.levelOfDetailSpeedup(), 'f', 2));
    return text;
}

} // namespace tfreeze
