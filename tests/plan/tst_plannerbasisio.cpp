#include "core/plan/freeze_planner.h"
#include "core/plan/pipeline_schedule.h"
#include "core/plan/plan_error.h"
#include "core/plan/planner_basis_io.h"
#include "core/plan/synthetic_profile.h"

#include "plan_test_support.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <sstream>

using namespace tfreeze;
using namespace tfreeze::test;

namespace {

QByteArray bytes(const std::string& text) { return QByteArray::fromStdString(text); }

Profile smallProfile(unsigned seed)
{
    SyntheticCosts costs;
    costs.jitter = 0.2;
    costs.seed = seed;
    return makeSyntheticProfile(PipelineSchedule::generate(ScheduleShape { ScheduleKind::OneFOneB, 4, 8, 1 }), costs);
}

// The optimal basis of a real plan: the kind of basis these files hold.
PlannerBasis plannedBasis()
{
    FreezePlanner planner(smallProfile(1));
    FreezeBounds bounds;
    bounds.maxFreeze = 0.5;
    planner.plan(bounds);
    return planner.optimalBasis();
}

std::string basisJson(const PlannerBasis& basis)
{
    std::ostringstream out;
    writePlannerBasisJson(basis, out);
    return out.str();
}

} // namespace

class TestPlannerBasisIo : public QObject {
    Q_OBJECT

private slots:
    void roundTrip();
    void shapeKeepsAll64Bits();
    void badBasis_data();
    void badBasis();
    void files();
};

// Written and read back, a basis is the same, and a planner of a profile measured again takes it.
void TestPlannerBasisIo::roundTrip()
{
    const PlannerBasis basis = plannedBasis();
    QVERIFY(!basis.empty());
    std::istringstream in(basisJson(basis));
    const PlannerBasis read = readPlannerBasisJson(in, "basis.json");
    QCOMPARE(read.shape, basis.shape);
    QVERIFY(read.entries == basis.entries);
    FreezePlanner again(smallProfile(2));
    QVERIFY(again.startFrom(read) == FreezePlanner::BasisStart::Taken);
}

// A fingerprint above 2^53 would lose its low bits as a JSON number read into a double.
void TestPlannerBasisIo::shapeKeepsAll64Bits()
{
    PlannerBasis basis;
    basis.shape = 0xfedcba9876543211ULL;
    basis.entries = { 0, -2, 1 };
    const std::string text = basisJson(basis);
    QVERIFY2(text.find("\"fedcba9876543211\"") != std::string::npos, text.c_str());
    std::istringstream in(text);
    QCOMPARE(readPlannerBasisJson(in, "basis.json").shape, basis.shape);
}

void TestPlannerBasisIo::badBasis_data()
{
    // A valid basis file with one JSON pointer replaced by `value`, or removed when it is empty.
    QTest::addColumn<QByteArray>("pointer");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QByteArray>("message");
    QTest::newRow("plan format tag") << QByteArray("/format") << QByteArray("\"tfreeze-plan/1\"")
                                     << QByteArray("format")
                                     << QByteArray("expected \"tfreeze-basis/1\" (got \"tfreeze-plan/1\")");
    QTest::newRow("missing shape") << QByteArray("/shape") << QByteArray() << QByteArray("shape")
                                   << QByteArray("is missing");
    QTest::newRow("shape as a number") << QByteArray("/shape") << QByteArray("12") << QByteArray("shape")
                                       << QByteArray("must be a string");
    QTest::newRow("short shape") << QByteArray("/shape") << QByteArray("\"abc\"") << QByteArray("shape")
                                 << QByteArray("must be 16 hexadecimal digits (got \"abc\")");
    QTest::newRow("shape not hexadecimal") << QByteArray("/shape") << QByteArray("\"0123456789abcdeg\"")
                                           << QByteArray("shape") << QByteArray("must be 16 hexadecimal digits");
    QTest::newRow("missing entries") << QByteArray("/entries") << QByteArray() << QByteArray("entries")
                                     << QByteArray("is missing");
    QTest::newRow("empty entries") << QByteArray("/entries") << QByteArray("[]") << QByteArray("entries")
                                   << QByteArray("must be a non-empty array of integers");
    QTest::newRow("entries an object") << QByteArray("/entries") << QByteArray("{}") << QByteArray("entries")
                                       << QByteArray("must be a non-empty array of integers");
    QTest::newRow("fractional entry") << QByteArray("/entries/3") << QByteArray("2.5") << QByteArray("entries[3]")
                                      << QByteArray("must be an integer");
    QTest::newRow("entry out of range") << QByteArray("/entries/1") << QByteArray("4294967296")
                                        << QByteArray("entries[1]") << QByteArray("is out of range");
}

void TestPlannerBasisIo::badBasis()
{
    QFETCH(QByteArray, pointer);
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, message);

    nlohmann::json document = nlohmann::json::parse(basisJson(plannedBasis()));
    const nlohmann::json::json_pointer at(pointer.toStdString());
    if (value.isEmpty())
        document.at(at.parent_pointer()).erase(at.back());
    else
        document[at] = nlohmann::json::parse(value.toStdString());

    std::istringstream in(document.dump());
    const auto error = inputErrorOf([&] { readPlannerBasisJson(in, "edited.json"); });
    QVERIFY2(error, "no InputError");
    QCOMPARE(bytes(error->source()), QByteArray("edited.json"));
    QCOMPARE(bytes(error->field()), field);
    QVERIFY2(error->reason().find(message.toStdString()) != std::string::npos, error->what());
}

void TestPlannerBasisIo::files()
{
    QTemporaryDir directory;
    QVERIFY(directory.isValid());
    const std::string path = directory.filePath(QStringLiteral("basis.json")).toStdString();
    const PlannerBasis basis = plannedBasis();
    writePlannerBasisFile(basis, path);
    QVERIFY(readPlannerBasisFile(path).entries == basis.entries);

    auto error = inputErrorOf([&] { readPlannerBasisFile(path + ".missing"); });
    QVERIFY2(error, "no InputError for a missing file");
    QCOMPARE(bytes(error->reason()), QByteArray("cannot open file: No such file or directory"));
    error = inputErrorOf([&] { writePlannerBasisFile(basis, path + "/no-such-directory/basis.json"); });
    QVERIFY2(error, "no InputError for an unwritable file");
    QCOMPARE(bytes(error->source()), bytes(path + "/no-such-directory/basis.json"));
}

QTEST_APPLESS_MAIN(TestPlannerBasisIo)
#include "tst_plannerbasisio.moc"
