#include "ui/series_downsampling.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

using namespace tfreeze;

Q_DECLARE_METATYPE(std::vector<double>)

namespace {

constexpr double missingValue = std::numeric_limits<double>::quiet_NaN(); // a rank not yet reported

bool finite(double x, double y) { return std::isfinite(x) && std::isfinite(y); }

// The expected output by brute force: for every bucket, a full scan of the input for the points
// that fall in it, then its first, (earliest) minimum, (earliest) maximum and last.
QList<QPointF> bruteForce(const std::vector<double>& xs, const std::vector<double>& ys, int maxPoints)
{
    const std::size_t n = std::min(xs.size(), ys.size());
    std::vector<std::size_t> kept;
    for (std::size_t i = 0; i < n; ++i) {
        if (finite(xs[i], ys[i]))
            kept.push_back(i);
    }
    QList<QPointF> out;
    if (maxPoints <= 0 || kept.empty())
        return out;
    if (kept.size() <= static_cast<std::size_t>(maxPoints)) {
        for (std::size_t i : kept)
            out.append(QPointF(xs[i], ys[i]));
        return out;
    }
    auto earliestMin = [&](const std::vector<std::size_t>& indices) {
        return *std::min_element(indices.begin(), indices.end(), [&](auto a, auto b) { return ys[a] < ys[b]; });
    };
    auto earliestMax = [&](const std::vector<std::size_t>& indices) {
        return *std::max_element(indices.begin(), indices.end(), [&](auto a, auto b) { return ys[a] < ys[b]; });
    };
    if (maxPoints < 4) {
        const std::size_t lo = earliestMin(kept);
        const std::size_t hi = earliestMax(kept);
        if (maxPoints == 1 || lo == hi)
            return { QPointF(xs[hi], ys[hi]) };
        std::set<std::size_t> both { lo, hi };
        for (std::size_t i : both)
            out.append(QPointF(xs[i], ys[i]));
        return out;
    }
    const int buckets = maxPoints / 4;
    const double x0 = xs[kept.front()];
    const double span = xs[kept.back()] - x0;
    for (int b = 0; b < buckets; ++b) {
        std::vector<std::size_t> members;
        for (std::size_t i : kept) {
            const int bucket = span > 0.0 ? std::min(static_cast<int>((xs[i] - x0) / span * buckets), buckets - 1) : 0;
            if (bucket == b)
                members.push_back(i);
        }
        if (members.empty())
            continue;
        const std::set<std::size_t> picks { members.front(), earliestMin(members), earliestMax(members),
            members.back() };
        for (std::size_t i : picks)
            out.append(QPointF(xs[i], ys[i]));
    }
    return out;
}

std::vector<double> steps(std::size_t n, double stride = 1.0)
{
    std::vector<double> xs(n);
    for (std::size_t i = 0; i < n; ++i)
        xs[i] = static_cast<double>(i) * stride;
    return xs;
}

} // namespace

class TestSeriesDownsampling : public QObject {
    Q_OBJECT

private slots:
    void matchesBruteForce_data()
    {
        QTest::addColumn<std::vector<double>>("xs");
        QTest::addColumn<std::vector<double>>("ys");
        QTest::addColumn<int>("maxPoints");

        {
            std::vector<double> ys { 3, 1, 4, 1, 5 };
            QTest::newRow("small input unchanged") << steps(5) << ys << 8;
            QTest::newRow("exactly maxPoints") << steps(5) << ys << 5;
        }
        {
            std::vector<double> ys(10'000);
            for (std::size_t i = 0; i < ys.size(); ++i)
                ys[i] = std::sin(static_cast<double>(i) / 300.0);
            ys[4321] = 50.0; // a one-step spike
            ys[777] = -40.0;
            QTest::newRow("sine with spikes, 10k to 400") << steps(ys.size()) << ys << 400;
            QTest::newRow("sine with spikes, 10k to 401") << steps(ys.size()) << ys << 401;
        }
        {
            std::mt19937 random(7);
            std::normal_distribution<double> step(0.0, 1.0);
            std::vector<double> ys(12'345);
            double walk = 0.0;
            for (double& y : ys)
                y = walk += step(random);
            QTest::newRow("random walk, 12345 to 1000") << steps(ys.size(), 2.0) << ys << 1000;
        }
        {
            std::vector<double> ys(1'000, 2.5);
            QTest::newRow("constant") << steps(ys.size()) << ys << 40;
        }
        {
            std::vector<double> xs = steps(600);
            std::vector<double> ys(600);
            for (std::size_t i = 0; i < ys.size(); ++i)
                ys[i] = (i % 7 == 0) ? missingValue : static_cast<double>((i * 37) % 101);
            ys[0] = missingValue; // the first point is missing
            xs[599] = std::numeric_limits<double>::infinity();
            QTest::newRow("NaN and infinite values dropped") << xs << ys << 100;
            QTest::newRow("NaN dropped, small enough after") << xs << ys << 590;
        }
        {
            std::vector<double> xs;
            for (int i = 0; i < 300; ++i)
                xs.push_back(i < 100 ? i : 5'000 + i); // a long gap: empty buckets
            std::vector<double> ys(xs.size());
            for (std::size_t i = 0; i < ys.size(); ++i)
                ys[i] = static_cast<double>((i * 13) % 17);
            QTest::newRow("gap in steps") << xs << ys << 40;
        }
        {
            std::vector<double> ys { 5, 9, 1, 7, 3 };
            QTest::newRow("maxPoints 3 keeps min and max") << steps(5) << ys << 3;
            QTest::newRow("maxPoints 1 keeps max") << steps(5) << ys << 1;
            QTest::newRow("maxPoints 0 empty") << steps(5) << ys << 0;
        }
        {
            std::vector<double> ys { missingValue, missingValue, missingValue };
            QTest::newRow("all NaN") << steps(3) << ys << 2;
        }
        {
            std::vector<double> ys(100, 1.0);
            QTest::newRow("all the same x") << std::vector<double>(100, 42.0) << ys << 8;
        }
        {
            std::vector<double> ys { 1, 2, 3 };
            QTest::newRow("more xs than ys") << steps(10) << ys << 10;
        }
    }

    void matchesBruteForce()
    {
        QFETCH(std::vector<double>, xs);
        QFETCH(std::vector<double>, ys);
        QFETCH(int, maxPoints);

        const QList<QPointF> points = downsampleMinMax(xs, ys, maxPoints);
        QCOMPARE(points, bruteForce(xs, ys, maxPoints));

        QVERIFY(points.size() <= std::max(maxPoints, 0));
        for (const QPointF& p : points)
            QVERIFY(std::isfinite(p.x()) && std::isfinite(p.y()));
        for (qsizetype i = 1; i < points.size(); ++i)
            QVERIFY2(points[i - 1].x() <= points[i].x(), "x order kept");

        // Global extremes of the finite points survive whenever there is room for two points.
        double lo = std::numeric_limits<double>::infinity();
        double hi = -lo;
        for (std::size_t i = 0; i < std::min(xs.size(), ys.size()); ++i) {
            if (finite(xs[i], ys[i])) {
                lo = std::min(lo, ys[i]);
                hi = std::max(hi, ys[i]);
            }
        }
        if (maxPoints >= 2 && std::isfinite(lo)) {
            const auto [minIt, maxIt] = std::minmax_element(
                points.begin(), points.end(), [](const QPointF& a, const QPointF& b) { return a.y() < b.y(); });
            QCOMPARE(minIt->y(), lo);
            QCOMPARE(maxIt->y(), hi);
        }
    }

    void eachPointIsAnInputPoint()
    {
        std::vector<double> ys(5'000);
        for (std::size_t i = 0; i < ys.size(); ++i)
            ys[i] = std::fmod(static_cast<double>(i) * 0.618, 1.0);
        const std::vector<double> xs = steps(ys.size(), 3.0);
        const QList<QPointF> points = downsampleMinMax(xs, ys, 200);
        QVERIFY(points.size() > 100);
        for (const QPointF& p : points) {
            const auto index = static_cast<std::size_t>(p.x() / 3.0);
            QCOMPARE(p.x(), xs[index]);
            QCOMPARE(p.y(), ys[index]);
        }
    }
};

QTEST_GUILESS_MAIN(TestSeriesDownsampling)
#include "tst_seriesdownsampling.moc"
