// APF and AutoFreeze decisions (METHOD.md §7) on scripted statistics, against traces worked out
// by hand from the rules.
#include "core/engine/apf_policy.h"
#include "core/engine/autofreeze_policy.h"

#include <QtTest>

#include <limits>

using namespace tfreeze;

class TestFreezePolicies : public QObject {
    Q_OBJECT

private slots:
    void apfPeriodsGrowWhileStableAndHalveWhenNot()
    {
        ApfOptions options;
        options.threshold = 0.1;
        options.crowdedFraction = 1.0; // never crowded: keep T_s fixed here
        ApfPolicy policy(2, options);
        const double stable = 0.01;
        const double unstable = 0.5;
        // Tensor 0 is always stable, tensor 1 never. Tensor 0 freezes for 1, then 2, then 3 check
        // intervals; when a period ends it thaws, trains one interval, and is tested again:
        //   check 0: stable → period 1, frozen during interval 0
        //   check 1: period over → thawed during interval 1
        //   check 2: stable → period 2, frozen during intervals 2, 3
        //   check 4: period over → thawed during interval 4
        //   check 5: stable → period 3, frozen during intervals 5, 6, 7
        const bool expectedFrozen[] = { true, false, true, true, false, true };
        const int expectedPeriod[] = { 1, 1, 2, 2, 2, 3 };
        for (int check = 0; check < 6; ++check) {
            policy.check({ stable, unstable });
            QCOMPARE(policy.isFrozen(0), expectedFrozen[check]);
            QCOMPARE(policy.period(0), expectedPeriod[check]);
            QVERIFY(!policy.isFrozen(1));
            QCOMPARE(policy.period(1), 0);
        }

        // Thawed and found unstable: the period halves and the tensor trains.
        ApfPolicy flipping(1, options);
        flipping.check({ stable }); // check 0: period 1
        flipping.check({ unstable }); // check 1: ignored, the period ends: thawed
        QVERIFY(!flipping.isFrozen(0));
        flipping.check({ stable }); // check 2: period 2, frozen until check 4
        flipping.check({ unstable }); // check 3: ignored: frozen
        QCOMPARE(flipping.period(0), 2);
        QVERIFY(flipping.isFrozen(0));
        flipping.check({ unstable }); // check 4: ignored, thawed
        flipping.check({ unstable }); // check 5: tested, unstable → period 1, stays thawed
        QCOMPARE(flipping.period(0), 1);
        QVERIFY(!flipping.isFrozen(0));
    }

    void apfHalvesTheThresholdWhenCrowded()
    {
        ApfOptions options;
        options.threshold = 0.1;
        options.crowdedFraction = 0.5;
        ApfPolicy policy(4, options);
        policy.check({ 0.05, 0.05, 0.5, 0.5 }); // half frozen: not more than 50%
        QCOMPARE(policy.threshold(), 0.1);
        QCOMPARE(policy.frozenCount(), std::size_t(2));
        policy.check({ 0.0, 0.0, 0.5, 0.5 }); // tensors 0, 1: periods over, thawed (P ignored)
        QCOMPARE(policy.frozenCount(), std::size_t(0));
        policy.check({ 0.05, 0.05, 0.09, 0.5 }); // 0, 1, 2 stable: 3 of 4 frozen, more than 50%
        QCOMPARE(policy.frozenCount(), std::size_t(3));
        QCOMPARE(policy.threshold(), 0.05);
        // A tensor with no update yet reports +inf and never freezes.
        ApfPolicy fresh(1, options);
        fresh.check({ std::numeric_limits<double>::infinity() });
        QVERIFY(!fresh.isFrozen(0));
    }

    void apfCheckSteps()
    {
        ApfOptions options;
        options.checkInterval = 10;
        ApfPolicy policy(1, options);
        QVERIFY(!policy.isCheckStep(0));
        QVERIFY(policy.isCheckStep(10));
        QVERIFY(!policy.isCheckStep(15));
        QVERIFY_THROWS_EXCEPTION(std::invalid_argument, policy.check({ 0.1, 0.2 }));
    }

    void percentileInterpolatesOrderStatistics_data()
    {
        QTest::addColumn<QList<double>>("values");
        QTest::addColumn<double>("percentile");
        QTest::addColumn<double>("expected");
        // numpy.percentile(values, p) (linear interpolation), worked by hand.
        QTest::newRow("median of odd") << QList<double> { 3, 1, 2 } << 50.0 << 2.0;
        QTest::newRow("median of even") << QList<double> { 4, 1, 3, 2 } << 50.0 << 2.5;
        QTest::newRow("70th of 1..5") << QList<double> { 5, 4, 3, 2, 1 } << 70.0 << 3.8;
        QTest::newRow("0th") << QList<double> { 7, 9 } << 0.0 << 7.0;
        QTest::newRow("100th") << QList<double> { 7, 9 } << 100.0 << 9.0;
        QTest::newRow("one value") << QList<double> { 4 } << 80.0 << 4.0;
    }

    void percentileInterpolatesOrderStatistics()
    {
        QFETCH(QList<double>, values);
        QFETCH(double, percentile);
        QFETCH(double, expected);
        const std::vector<double> v(values.begin(), values.end());
        QCOMPARE(AutoFreezePolicy::percentileOf(v, percentile), expected);
    }

    void autoFreezeFreezesThePrefixBeforeTheFirstChangingLayer()
    {
        AutoFreezeOptions options;
        options.percentile = 50.0;
        AutoFreezePolicy policy(5, options);
        policy.check({ 1.0, 1.0, 1.0, 1.0, 1.0 }); // first check: records only
        QCOMPARE(policy.frozenLayerCount(), std::size_t(0));
        // Rates 0.01, 0.02, 0.5, 0.03, 0.6: median 0.03; the first layer at or above it is layer 2.
        policy.check({ 0.99, 1.02, 1.5, 0.97, 1.6 });
        QCOMPARE(policy.frozenLayerCount(), std::size_t(2));
        QVERIFY(policy.isFrozen(1));
        QVERIFY(!policy.isFrozen(2));
        // Layers 2..4 active; rates from the last norms: 0.0 (1.5→1.5), 0.1 (0.97→1.067), 0.5
        // (1.6→0.8); median 0.1; layer 2 is below, layer 3 reaches it: layers 0..2 frozen.
        policy.check({ 5.0, 5.0, 1.5, 0.97 * 1.1, 0.8 });
        QCOMPARE(policy.frozenLayerCount(), std::size_t(3));
        // Equal rates: the first active layer reaches the percentile, nothing more freezes, nothing thaws.
        policy.check({ 0, 0, 0, 0.97 * 1.1 * 2, 0.8 * 2 });
        QCOMPARE(policy.frozenLayerCount(), std::size_t(3));
        // Layer 3 steady (rate 0), layer 4 halves (0.5): median 0.25, layer 3 freezes.
        policy.check({ 0, 0, 0, 0.97 * 1.1 * 2, 0.8 });
        QCOMPARE(policy.frozenLayerCount(), std::size_t(4));
        // Only the last layer is left, and it always trains.
        policy.check({ 0, 0, 0, 0, 0.8 });
        QCOMPARE(policy.frozenLayerCount(), std::size_t(4));
    }
};

QTEST_APPLESS_MAIN(TestFreezePolicies)
#include "tst_freezepolicies.moc"
