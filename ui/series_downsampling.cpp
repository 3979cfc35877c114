#include "ui/series_downsampling.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace tfreeze {

namespace {

bool finitePoint(double x, double y) { return std::isfinite(x) && std::isfinite(y); }

} // namespace

// NOLINTNEXTLINE(readability-function-cognitive-complexity): one pass over the points, bucket bookkeeping inline
QList<QPointF> downsampleMinMax(const std::vector<double>& xs, const std::vector<double>& ys, int maxPoints)
{
    const std::size_t n = std::min(xs.size(), ys.size());
    QList<QPointF> out;
    if (maxPoints <= 0 || n == 0)
        return out;

    std::size_t finiteCount = 0;
    std::size_t firstFinite = n;
    std::size_t lastFinite = 0;
    std::size_t minIndex = n;
    std::size_t maxIndex = n;
    for (std::size_t i = 0; i < n; ++i) {
        if (!finitePoint(xs[i], ys[i]))
            continue;
        ++finiteCount;
        if (firstFinite == n)
            firstFinite = i;
        lastFinite = i;
        if (minIndex == n || ys[i] < ys[minIndex])
            minIndex = i;
        if (maxIndex == n || ys[i] > ys[maxIndex])
            maxIndex = i;
    }
    if (finiteCount == 0)
        return out;

    if (finiteCount <= static_cast<std::size_t>(maxPoints)) {
        out.reserve(static_cast<qsizetype>(finiteCount));
        for (std::size_t i = 0; i < n; ++i) {
            if (finitePoint(xs[i], ys[i]))
                out.append(QPointF(xs[i], ys[i]));
        }
        return out;
    }

    if (maxPoints < 4) {
        if (maxPoints == 1 || minIndex == maxIndex) {
            out.append(QPointF(xs[maxIndex], ys[maxIndex]));
            return out;
        }
        const std::size_t a = std::min(minIndex, maxIndex);
        const std::size_t b = std::max(minIndex, maxIndex);
        out.append(QPointF(xs[a], ys[a]));
        out.append(QPointF(xs[b], ys[b]));
        return out;
    }

    const int bucketCount = maxPoints / 4;
    const double x0 = xs[firstFinite];
    const double span = xs[lastFinite] - x0;
    out.reserve(4 * static_cast<qsizetype>(bucketCount));

    // Indices of the current bucket's first/min/max/last; appended when the bucket closes.
    int bucket = -1;
    std::size_t first = n;
    std::size_t low = n;
    std::size_t high = n;
    std::size_t last = n;
    auto flush = [&]() {
        if (first == n)
            return;
        std::array<std::size_t, 4> picks { first, low, high, last };
        std::sort(picks.begin(), picks.end());
        std::size_t previous = n;
        for (std::size_t index : picks) {
            if (index != previous)
                out.append(QPointF(xs[index], ys[index]));
            previous = index;
        }
    };
    for (std::size_t i = firstFinite; i <= lastFinite; ++i) {
        if (!finitePoint(xs[i], ys[i]))
            continue;
        int b = span > 0.0 ? static_cast<int>((xs[i] - x0) / span * bucketCount) : 0;
        // max(): an out-of-order x never reopens an earlier bucket, so the count bound holds.
        b = std::clamp(b, std::max(bucket, 0), bucketCount - 1);
        if (b != bucket) {
            flush();
            bucket = b;
            first = low = high = i;
        }
        if (ys[i] < ys[low])
            low = i;
        if (ys[i] > ys[high])
            high = i;
        last = i;
    }
    flush();
    return out;
}

} // namespace tfreeze
