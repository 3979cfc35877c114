#pragma once

#include <QList>
#include <QPointF>

#include <vector>

namespace tfreeze {

// Reduces a line series to at most `maxPoints` points for a chart about maxPoints / 4 pixels
// wide, so that a spike of one step still shows: the x range is cut into maxPoints / 4
// equal-width buckets and each bucket keeps its first, minimum, maximum and last point (ties: the
// earliest), in their original order, each once.
//
// - `xs` must be non-decreasing (steps); only the first min(xs.size(), ys.size()) pairs are read.
// - A pair with a NaN or infinite x or y is dropped: a chart cannot draw it, and a missing value
//   (a rank that had not reported yet) is stored as NaN.
// - When the finite points number at most maxPoints they are returned unchanged.
// - maxPoints < 4 leaves no room for a bucket: the global minimum and maximum are kept (only the
//   maximum for maxPoints == 1); maxPoints <= 0 gives an empty list.
QList<QPointF> downsampleMinMax(const std::vector<double>& xs, const std::vector<double>& ys, int maxPoints);

} // namespace tfreeze
