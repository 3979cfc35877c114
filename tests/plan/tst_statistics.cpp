#include "core/plan/statistics.h"

#include <QtTest>

#include <algorithm>
#include <random>
#include <vector>

using namespace tfreeze;

class TestStatistics : public QObject {
    Q_OBJECT

private slots:
    // Against the textbook definition on a sorted copy, for odd and even counts with ties.
    void medianMatchesTheSortedDefinition()
    {
        std::mt19937 engine(11);
        std::uniform_int_distribution<int> count(1, 40);
        std::uniform_int_distribution<int> value(-5, 5); // small range: many ties
        for (int trial = 0; trial < 2000; ++trial) {
            std::vector<double> values(static_cast<std::size_t>(count(engine)));
            for (double& v : values)
                v = value(engine) * 0.25;
            std::vector<double> sorted = values;
            std::sort(sorted.begin(), sorted.end());
            const std::size_t middle = sorted.size() / 2;
            const double expected
                = sorted.size() % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0;
            QCOMPARE(median(values), expected);
        }
    }

    void medianOfSmallCases()
    {
        QCOMPARE(median({}), 0.0);
        QCOMPARE(median({ 3.0 }), 3.0);
        QCOMPARE(median({ 4.0, 1.0 }), 2.5);
        QCOMPARE(median({ 9.0, 1.0, 5.0 }), 5.0);
    }
};

QTEST_APPLESS_MAIN(TestStatistics)
#include "tst_statistics.moc"
