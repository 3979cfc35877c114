#include "ui/nice_ticks.h"

#include <QValueAxis>
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace tfreeze;

namespace {

// Every 1, 2 and 5 · 10^k from 10^-9 to 5 · 10^9, ascending.
std::vector<double> allNiceSteps()
{
    std::vector<double> steps;
    for (int k = -9; k <= 9; ++k) {
        for (double m : { 1.0, 2.0, 5.0 })
            steps.push_back(m * std::pow(10.0, k));
    }
    return steps;
}

// The brute force: the smallest nice step not below minInterval, by listing them all.
double bruteForceStep(double minInterval)
{
    for (double step : allNiceSteps()) {
        if (step >= minInterval * (1.0 - 1e-12))
            return step;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

// QtTest's macros return from the function they are in: the caller's test fails all the same.
void compareTicks(const AxisTicks& ticks, double anchor, double interval, int decimals)
{
    QVERIFY2(
        std::abs(ticks.interval - interval) <= 1e-12 * interval, qPrintable(QString::number(ticks.interval, 'g', 17)));
    QVERIFY2(std::abs(ticks.anchor - anchor) <= 1e-9 * interval, qPrintable(QString::number(ticks.anchor, 'g', 17)));
    QCOMPARE(ticks.decimals, decimals);
}

// Multiples of step in [low, high], by walking them.
int bruteForceTickCount(double low, double high, double step)
{
    int count = 0;
    for (double n = std::ceil(low / step - 1e-9); n * step <= high + 1e-9 * step; n += 1.0)
        ++count;
    return count;
}

} // namespace

class TestNiceTicks : public QObject {
    Q_OBJECT

private slots:
    void stepAtLeast_data()
    {
        QTest::addColumn<double>("atLeast");
        QTest::addColumn<double>("step");
        QTest::newRow("1") << 1.0 << 1.0;
        QTest::newRow("1.01 -> 2") << 1.01 << 2.0;
        QTest::newRow("2") << 2.0 << 2.0;
        QTest::newRow("2.1 -> 5") << 2.1 << 5.0;
        QTest::newRow("5.0001 -> 10") << 5.0001 << 10.0;
        QTest::newRow("0.2 (inexact in binary)") << 0.1 * 2.0 << 0.2;
        QTest::newRow("0.0031 -> 0.005") << 0.0031 << 0.005;
        QTest::newRow("7000 -> 10000") << 7000.0 << 10000.0;
    }

    void stepAtLeast()
    {
        QFETCH(double, atLeast);
        QFETCH(double, step);
        const double got = niceStepAtLeast(atLeast);
        QVERIFY2(std::abs(got - step) <= 1e-12 * step, qPrintable(QString::number(got, 'g', 17)));
    }

    // Axes like the studio's charts (about 80 px tall, ticks at least 28 px apart): what a user sees.
    void axesOfTheStudio_data()
    {
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::addColumn<double>("anchor");
        QTest::addColumn<double>("interval");
        QTest::addColumn<int>("decimals");
        QTest::newRow("idle 0-77 %") << 0.0 << 77.0 << 0.0 << 50.0 << 0;
        QTest::newRow("loss 1.21-5.93") << 1.21 << 5.93 << 2.0 << 2.0 << 0;
        QTest::newRow("freeze 0-1.05") << 0.0 << 1.05 << 0.0 << 0.5 << 1;
        QTest::newRow("batch 172.6-256.4 ms") << 172.6 << 256.4 << 200.0 << 50.0 << 0;
        QTest::newRow("batch 25.31-27.12 ms") << 25.31 << 27.12 << 26.0 << 1.0 << 0;
        QTest::newRow("tokens/s 0-11394") << 0.0 << 11394.0 << 0.0 << 5000.0 << 0;
        QTest::newRow("negative -3.2 to 4.1") << -3.2 << 4.1 << 0.0 << 5.0 << 0;
        QTest::newRow("tiny 0.0012-0.0019") << 0.0012 << 0.0019 << 0.0015 << 0.0005 << 4;
    }

    void axesOfTheStudio()
    {
        QFETCH(double, low);
        QFETCH(double, high);
        QFETCH(double, anchor);
        QFETCH(double, interval);
        QFETCH(int, decimals);
        const AxisTicks ticks = niceAxisTicks(low, (high - low) * 28.0 / 80.0);
        compareTicks(ticks, anchor, interval, decimals);
    }

    // Random ranges over many scales against the brute force: the same step, the first tick the
    // first multiple of it at or above low, and labels that write every tick exactly and tell
    // neighbouring ones apart.
    void againstBruteForce()
    {
        std::mt19937 random(20261206);
        std::uniform_real_distribution<double> exponent(-6.0, 6.0);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int i = 0; i < 3000; ++i) {
            const double scale = std::pow(10.0, exponent(random));
            const double low = (unit(random) * 2.0 - 1.0) * scale * (i % 3 == 0 ? 0.0 : 1.0);
            const double minInterval = scale * (0.001 + unit(random));
            const AxisTicks ticks = niceAxisTicks(low, minInterval);
            const QString where
                = QStringLiteral("low %1, at least %2 apart").arg(low, 0, 'g', 17).arg(minInterval, 0, 'g', 17);
            const double expected = bruteForceStep(minInterval);
            QVERIFY2(std::abs(ticks.interval - expected) <= 1e-12 * expected,
                qPrintable(where + QStringLiteral(": interval %1, brute force %2").arg(ticks.interval).arg(expected)));
            // The first multiple at or above low: n · interval with n whole, and the one before below low.
            const double n = ticks.anchor / ticks.interval;
            QVERIFY2(std::abs(n - std::round(n)) < 1e-6, qPrintable(where));
            QVERIFY2(
                ticks.anchor >= low - 1e-9 * ticks.interval && ticks.anchor - ticks.interval < low, qPrintable(where));
            const QString first = QString::number(ticks.anchor, 'f', ticks.decimals);
            const QString second = QString::number(ticks.anchor + ticks.interval, 'f', ticks.decimals);
            QVERIFY2(first != second, qPrintable(where + QStringLiteral(": %1 and %2").arg(first, second)));
            // Exactly enough digits: the interval is written exactly, and one digit fewer would round it.
            QVERIFY(std::abs(QString::number(ticks.interval, 'f', ticks.decimals).toDouble() - ticks.interval)
                <= 1e-9 * ticks.interval);
            if (ticks.decimals > 0) {
                const double rounded = QString::number(ticks.interval, 'f', ticks.decimals - 1).toDouble();
                QVERIFY2(std::abs(rounded - ticks.interval) > 1e-9 * ticks.interval, qPrintable(where));
            }
        }
    }

    // With the range known: two labelled ticks where one step down fits them at half the spacing.
    void atLeastTwoTicks_data()
    {
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::addColumn<double>("lengthPx");
        QTest::addColumn<double>("anchor");
        QTest::addColumn<double>("interval");
        QTest::addColumn<int>("decimals");
        // The studio's trade-off chart (2026-12-07 screenshot): 50 apart gave 200 alone.
        QTest::newRow("batch 155-246 ms, 90 px") << 155.0 << 246.0 << 90.0 << 160.0 << 20.0 << 0;
        // Two multiples of the plain step already: unchanged (as axesOfTheStudio).
        QTest::newRow("batch 172.6-256.4 ms, 80 px") << 172.6 << 256.4 << 80.0 << 200.0 << 50.0 << 0;
        QTest::newRow("idle 0-77 %, 80 px") << 0.0 << 77.0 << 80.0 << 0.0 << 50.0 << 0;
        // 0.2 → 0.1: 1.2 alone becomes 1.1, 1.2, 1.3.
        QTest::newRow("loss 1.03-1.36, 80 px") << 1.03 << 1.36 << 80.0 << 1.1 << 0.1 << 1;
        // One step down would be closer than half the spacing (too short an axis): unchanged.
        QTest::newRow("batch 155-246 ms, 30 px") << 155.0 << 246.0 << 30.0 << 200.0 << 100.0 << 0;
    }

    void atLeastTwoTicks()
    {
        QFETCH(double, low);
        QFETCH(double, high);
        QFETCH(double, lengthPx);
        QFETCH(double, anchor);
        QFETCH(double, interval);
        QFETCH(int, decimals);
        const AxisTicks ticks = niceAxisTicks(low, high, (high - low) * 28.0 / lengthPx);
        compareTicks(ticks, anchor, interval, decimals);
    }

    // Random ranges against the brute force: of the nice steps at least minInterval / 2, the
    // smallest one at least minInterval if it puts two ticks in the range, else the largest below
    // it that does, else the smallest one at least minInterval anyway.
    void atLeastTwoTicksAgainstBruteForce()
    {
        std::mt19937 random(20261207);
        std::uniform_real_distribution<double> exponent(-6.0, 6.0);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        const std::vector<double> steps = allNiceSteps();
        int denser = 0;
        for (int i = 0; i < 3000; ++i) {
            const double scale = std::pow(10.0, exponent(random));
            const double low = (unit(random) * 2.0 - 1.0) * scale;
            const double high = low + scale * (0.01 + unit(random));
            const double minInterval = (high - low) * (0.2 + unit(random));
            const double plain = bruteForceStep(minInterval);
            double expected = plain;
            if (bruteForceTickCount(low, high, plain) < 2) {
                for (double step : steps) {
                    if (step >= minInterval * 0.5 * (1.0 - 1e-12) && step < plain * (1.0 - 1e-12)
                        && bruteForceTickCount(low, high, step) >= 2)
                        expected = step;
                }
            }
            const AxisTicks ticks = niceAxisTicks(low, high, minInterval);
            const QString where = QStringLiteral("%1 to %2, at least %3 apart")
                                      .arg(low, 0, 'g', 17)
                                      .arg(high, 0, 'g', 17)
                                      .arg(minInterval, 0, 'g', 17);
            QVERIFY2(std::abs(ticks.interval - expected) <= 1e-12 * expected,
                qPrintable(where + QStringLiteral(": interval %1, brute force %2").arg(ticks.interval).arg(expected)));
            // The anchor and labels as for the plain ticks at that interval.
            const AxisTicks atThatStep = niceAxisTicks(low, ticks.interval);
            QCOMPARE(ticks.anchor, atThatStep.anchor);
            QCOMPARE(ticks.decimals, atThatStep.decimals);
            if (ticks.interval < plain)
                ++denser;
        }
        // The case the overload exists for must have come up, and not for every range.
        QVERIFY2(denser > 100 && denser < 2900, qPrintable(QString::number(denser)));
    }

    void degenerateInput()
    {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        const double inf = std::numeric_limits<double>::infinity();
        for (double minInterval : { 0.0, -1.0, nan, inf }) {
            const AxisTicks ticks = niceAxisTicks(5.0, minInterval);
            QCOMPARE(ticks.anchor, 5.0);
            QCOMPARE(ticks.interval, 1.0);
            QCOMPARE(ticks.decimals, 0);
        }
        const AxisTicks noLow = niceAxisTicks(nan, 1.0);
        QCOMPARE(noLow.anchor, 0.0);
        QCOMPARE(noLow.interval, 1.0);
    }

    void appliedToAnAxis()
    {
        QValueAxis axis;
        // 0-77 over 200 px, 28 px apart: at least 10.78, so 20.
        axis.setRange(0.0, 77.0);
        applyNiceTicks(&axis, 200.0, 28.0);
        QCOMPARE(axis.tickType(), QValueAxis::TicksDynamic);
        QCOMPARE(axis.tickAnchor(), 0.0);
        QCOMPARE(axis.tickInterval(), 20.0);
        QCOMPARE(axis.labelFormat(), QStringLiteral("%.0f"));
        // Half as tall: 50.
        applyNiceTicks(&axis, 100.0, 28.0);
        QCOMPARE(axis.tickInterval(), 50.0);
        // Not laid out yet: taken as 100 px.
        applyNiceTicks(&axis, 0.0, 28.0);
        QCOMPARE(axis.tickInterval(), 50.0);

        axis.setRange(0.95, 1.62);
        applyNiceTicks(&axis, 150.0, 28.0);
        QCOMPARE(axis.tickInterval(), 0.2);
        QCOMPARE(axis.tickAnchor(), 1.0);
        QCOMPARE(axis.labelFormat(), QStringLiteral("%.1f"));

        // The trade-off chart's batch axis: one tick (200) at 50 apart, so 20 apart.
        axis.setRange(155.0, 246.0);
        applyNiceTicks(&axis, 90.0, 28.0);
        QCOMPARE(axis.tickInterval(), 20.0);
        QCOMPARE(axis.tickAnchor(), 160.0);
        // A step axis: 10-11.6 over 40 px has only 10 at 2 apart, so 1 apart (10, 11); 10-10.9 has
        // only 10 at 1 apart, but stays whole rather than 0.5 apart.
        axis.setRange(10.0, 11.6);
        applyNiceTicks(&axis, 40.0, 28.0, true);
        QCOMPARE(axis.tickInterval(), 1.0);
        axis.setRange(10.0, 10.9);
        applyNiceTicks(&axis, 40.0, 28.0, true);
        QCOMPARE(axis.tickInterval(), 1.0);
        applyNiceTicks(&axis, 40.0, 28.0);
        QCOMPARE(axis.tickInterval(), 0.5);

        // A range whose span overflows keeps Qt's fixed ticks rather than ticks 1 apart.
        axis.setRange(-1.5e308, 1.5e308);
        applyNiceTicks(&axis, 100.0, 28.0);
        QCOMPARE(axis.tickType(), QValueAxis::TicksFixed);

        // Steps are whole numbers: three of them over 400 px get ticks 1 apart, not 0.5.
        axis.setRange(10.0, 13.0);
        applyNiceTicks(&axis, 400.0, 70.0, true);
        QCOMPARE(axis.tickInterval(), 1.0);
        QCOMPARE(axis.tickAnchor(), 10.0);
        QCOMPARE(axis.labelFormat(), QStringLiteral("%.0f"));
    }
};

QTEST_MAIN(TestNiceTicks)
#include "tst_niceticks.moc"
