#include "ui/nice_ticks.h"

#include <QString>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace tfreeze {

namespace {
// Relative slack for floating-point multiples: 0.2 must not read as 0.20000000000000004 > 0.2.
constexpr double kTolerance = 1e-9;
// More dynamic ticks than this only come from a range that overflows (its span is infinite).
constexpr double kMaxTicks = 10'000.0;
// Above this many ticks under the old interval, a new range is set under fixed ticks (a chart has at
// most a few dozen; a jump this large is a diverging or reset series, not a live refresh).
constexpr double kMaxTicksWhileMoving = 100.0;
// The length assumed for an axis that is not laid out yet.
constexpr double kDefaultLengthPx = 100.0;
} // namespace

double niceStepAtLeast(double atLeast)
{
    const double floorStep = std::max(atLeast, 1e-12);
    const double decade = std::pow(10.0, std::floor(std::log10(floorStep)));
    for (double multiple : { 1.0, 2.0, 5.0 }) {
        if (multiple * decade >= floorStep * (1.0 - kTolerance))
            return multiple * decade;
    }
    return 10.0 * decade;
}

AxisTicks niceAxisTicks(double low, double minInterval)
{
    AxisTicks ticks;
    if (!std::isfinite(low) || !std::isfinite(minInterval) || !(minInterval > 0.0)) {
        ticks.anchor = std::isfinite(low) ? low : 0.0;
        return ticks;
    }
    ticks.interval = niceStepAtLeast(minInterval);
    ticks.anchor = std::ceil(low / ticks.interval - kTolerance) * ticks.interval;
    ticks.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(ticks.interval) + kTolerance)));
    return ticks;
}

namespace {
// How many multiples of ticks.interval, from ticks.anchor on, lie at or below high.
double tickCountUpTo(const AxisTicks& ticks, double high)
{
    if (ticks.anchor > high + kTolerance * ticks.interval)
        return 0.0;
    return std::floor((high - ticks.anchor) / ticks.interval + kTolerance) + 1.0;
}
} // namespace

AxisTicks niceAxisTicks(double low, double high, double minInterval)
{
    const AxisTicks ticks = niceAxisTicks(low, minInterval);
    if (!std::isfinite(high) || !(high > low) || !std::isfinite(minInterval) || !(minInterval > 0.0)
        || tickCountUpTo(ticks, high) >= 2.0)
        return ticks;
    // The 1-2-5 step below this one: 50 → 20, 20 → 10, 10 → 5.
    const double smaller = niceStepAtLeast(ticks.interval * 0.4);
    if (smaller < minInterval * 0.5 * (1.0 - kTolerance))
        return ticks;
    const AxisTicks denser = niceAxisTicks(low, smaller);
    return tickCountUpTo(denser, high) >= 2.0 ? denser : ticks;
}

void applyNiceTicks(QValueAxis* axis, double lengthPx, double minSpacingPx, bool integral)
{
    const double length = lengthPx > 0.0 ? lengthPx : kDefaultLengthPx;
    const double span = axis->max() - axis->min();
    double minInterval = span * minSpacingPx / length;
    if (integral)
        minInterval = std::max(minInterval, 1.0);
    AxisTicks ticks = niceAxisTicks(axis->min(), axis->max(), minInterval);
    if (integral && ticks.interval < 1.0)
        ticks = niceAxisTicks(axis->min(), minInterval);
    if (!std::isfinite(span) || span / ticks.interval > kMaxTicks) {
        axis->setTickType(QValueAxis::TicksFixed); // an overflowing range: Qt's evenly spaced ticks
        return;
    }
    axis->setTickType(QValueAxis::TicksDynamic);
    axis->setTickAnchor(ticks.anchor);
    axis->setTickInterval(ticks.interval);
    axis->setLabelFormat(QStringLiteral("%.") + QString::number(ticks.decimals) + QStringLiteral("f"));
}

void setRangeWithNiceTicks(
    QValueAxis* axis, double min, double max, double lengthPx, double minSpacingPx, bool integral)
{
    // Qt Charts lays the axis out as soon as the range changes: if the current interval would put
    // too many ticks on the new range, a fixed count of ticks while it moves, the new interval once it
    // is in place. Otherwise (almost every refresh of a live run) the range is set directly.
    if (axis->tickType() == QValueAxis::TicksDynamic && !((max - min) / axis->tickInterval() <= kMaxTicksWhileMoving))
        axis->setTickType(QValueAxis::TicksFixed);
    axis->setRange(min, max);
    applyNiceTicks(axis, lengthPx, minSpacingPx, integral);
}

} // namespace tfreeze
