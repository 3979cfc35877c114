#pragma once

// Round tick values for chart axes (0, 20, 40 rather than 0, 19.3, 38.5): the arithmetic without
// Qt Charts, so a test can check it against a brute force, and its application to a QValueAxis.

class QValueAxis;

namespace tfreeze {

// The smallest 1, 2 or 5 · 10^k that is not below `atLeast` (> 0).
double niceStepAtLeast(double atLeast);

// Ticks at every multiple of `interval` in the axis range, starting at `anchor`; labels with
// `decimals` digits after the point, as many as the interval needs to be written exactly.
struct AxisTicks {
    double anchor = 0.0;
    double interval = 1.0;
    int decimals = 0;
};

// Ticks for a range from `low` up, at least `minInterval` apart: the interval is
// niceStepAtLeast(minInterval), the anchor its first multiple not below low. A non-finite or
// non-positive minInterval, or a non-finite low, gives interval 1 at low (or 0).
AxisTicks niceAxisTicks(double low, double minInterval);

// The same for an axis from `low` to `high`, but never a single labelled tick where two fit at
// half the spacing: when no second multiple of that interval lies in the range (a batch time
// axis from 155 to 246 ms, 90 px tall: only 200 at 50 ms apart), the next nice step down (20:
// 160 to 240), if it keeps ticks at least minInterval / 2 apart and puts two or more in the range.
// One step down is the only candidate: two steps down are always closer than minInterval / 2.
AxisTicks niceAxisTicks(double low, double high, double minInterval);

// Sets `axis` to dynamic ticks at least `minSpacingPx` apart on an axis `lengthPx` long (the plot
// area's height or width; ≤ 0 when not laid out yet, taken as 100 px). Call it after every change
// of the range or the size. `integral` keeps the interval at 1 or more (steps, counts).
void applyNiceTicks(QValueAxis* axis, double lengthPx, double minSpacingPx, bool integral = false);

// Sets the range of `axis` and then its ticks as applyNiceTicks does. Use it rather than setRange:
// Qt Charts lays the axis out at once, and the interval of a range a million times shorter would
// put a million tick items on it (a diverging loss would hang the studio).
void setRangeWithNiceTicks(
    QValueAxis* axis, double min, double max, double lengthPx, double minSpacingPx, bool integral = false);

} // namespace tfreeze
