#include "core/engine/synthetic_tasks.h"
#include "core/engine/text_corpus.h"
#include "core/engine/transformer_model.h"
#include "core/plan/plan_error.h"

#include <QtTest>

#include <algorithm>
#include <set>
#include <string>

using namespace tfreeze;

namespace {

// Fixed-width numbered records ("r000042\n": 8 bytes, so that a 4096-byte block holds whole records): every record lies
// wholly in one split, so the splits' record sets must be disjoint and together give every record.
constexpr std::size_t kRecordBytes = 8;

std::string numberedText(int records)
{
    std::string text;
    for (int i = 0; i < records; ++i) {
        std::string number = std::to_string(i);
        text += "r" + std::string(6 - number.size(), '0') + number + "\n";
    }
    return text;
}

std::set<std::string> recordsOf(const std::string& split)
{
    std::set<std::string> records;
    for (std::size_t i = 0; i + kRecordBytes <= split.size(); i += kRecordBytes)
        records.insert(split.substr(i, kRecordBytes));
    return records;
}

std::string rowText(const torch::Tensor& row)
{
    std::string text;
    for (std::int64_t t = 0; t < row.size(0); ++t)
        text += static_cast<char>(row[t].item<std::int64_t>());
    return text;
}

// The example of a synthetic row: its input bytes up to the first '\n'.
std::string exampleText(const Batch& batch, std::int64_t row)
{
    const std::string bytes = rowText(batch.inputs[row]);
    return bytes.substr(0, bytes.find('\n') + 1);
}

// The bytes that the row's scored targets spell.
std::string scoredText(const Batch& batch, std::int64_t row)
{
    std::string text;
    const torch::Tensor targets = batch.targets[row];
    for (std::int64_t t = 0; t < targets.size(0); ++t)
        if (targets[t].item<std::int64_t>() != kIgnoreTarget)
            text += static_cast<char>(targets[t].item<std::int64_t>());
    return text;
}

} // namespace

class TestBatchSource : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { torch::set_num_threads(1); }
    void textSplitsDisjointAndComplete();
    void textBatchesDeterministicAndFromTraining();
    void textValidationBatchesFixed();
    void textTooShort();
    void shippedCorpusSplits();
    void syntheticAnswersCorrect_data();
    void syntheticAnswersCorrect();
    void syntheticHeldOutNeverTrained();
    void syntheticTargetsOnlyOnAnswers();
    void microbatchSplit();
};

void TestBatchSource::textSplitsDisjointAndComplete()
{
    const std::string text = numberedText(20480); // 40 blocks of 4096 bytes
    const TextCorpus corpus(text, 0.1, 4, 16, 1);
    QCOMPARE(corpus.trainingText().size() + corpus.validationText().size(), text.size());
    QCOMPARE(corpus.validationText().size(), 4 * TextCorpus::kBlockBytes); // every tenth block of 40
    const std::set<std::string> training = recordsOf(corpus.trainingText());
    const std::set<std::string> validation = recordsOf(corpus.validationText());
    std::vector<std::string> common;
    std::set_intersection(
        training.begin(), training.end(), validation.begin(), validation.end(), std::back_inserter(common));
    QVERIFY(common.empty());
    QCOMPARE(training.size() + validation.size(), std::size_t(20480));
    // Blocks 9, 19, 29, 39 (records 512 a block): validation samples the whole text, not its tail.
    QCOMPARE(*validation.begin(), std::string("r004608\n"));
    QVERIFY(validation.count("r005119\n") && !validation.count("r005120\n") && validation.count("r009728\n"));
    // The same split every time.
    const TextCorpus again(text, 0.1, 4, 16, 99);
    QCOMPARE(again.validationText(), corpus.validationText());
}

void TestBatchSource::textBatchesDeterministicAndFromTraining()
{
    const std::string text = numberedText(20480);
    const TextCorpus corpus(text, 0.1, 8, 16, 7);
    const TextCorpus same(text, 0.1, 8, 16, 7);
    const TextCorpus other(text, 0.1, 8, 16, 8);
    const Batch a = corpus.trainingBatch(3);
    QCOMPARE(a.inputs.sizes(), (torch::IntArrayRef { 8, 16 }));
    QCOMPARE(a.targets.sizes(), (torch::IntArrayRef { 8, 16 }));
    QVERIFY(torch::equal(a.inputs, same.trainingBatch(3).inputs));
    QVERIFY(!torch::equal(a.inputs, corpus.trainingBatch(4).inputs));
    QVERIFY(!torch::equal(a.inputs, other.trainingBatch(3).inputs));
    for (std::int64_t step = 0; step < 20; ++step) {
        const Batch batch = corpus.trainingBatch(step);
        // Targets are the inputs shifted by one.
        QVERIFY(torch::equal(batch.inputs.slice(1, 1), batch.targets.slice(1, 0, 15)));
        for (std::int64_t row = 0; row < batch.rows(); ++row) {
            const std::string window = rowText(batch.inputs[row]) + rowText(batch.targets[row].slice(0, 15));
            QVERIFY2(corpus.trainingText().find(window) != std::string::npos, window.c_str());
            // Windows of 17 bytes cover a whole 8-byte record: it must not be a validation one.
            const std::size_t start = window.find('r');
            const std::string record = window.substr(start, kRecordBytes);
            QVERIFY2(corpus.validationText().find(record) == std::string::npos, record.c_str());
        }
    }
}

void TestBatchSource::textValidationBatchesFixed()
{
    const TextCorpus corpus(numberedText(20480), 0.1, 8, 16, 7);
    const std::vector<Batch> first = corpus.validationBatches(3);
    const std::vector<Batch> second = corpus.validationBatches(3);
    QCOMPARE(first.size(), std::size_t(3));
    for (std::size_t i = 0; i < first.size(); ++i) {
        QVERIFY(torch::equal(first[i].inputs, second[i].inputs));
        for (std::int64_t row = 0; row < first[i].rows(); ++row)
            QVERIFY(corpus.validationText().find(rowText(first[i].inputs[row])) != std::string::npos);
    }
    // Asking for more than the split holds gives every window once: (16384 − 1) / 16 = 1023.
    std::int64_t rows = 0;
    for (const Batch& batch : corpus.validationBatches(1000))
        rows += batch.rows();
    QCOMPARE(rows, std::int64_t(1023));
}

void TestBatchSource::textTooShort()
{
    try {
        TextCorpus corpus(std::string(100, 'x'), 0.1, 4, 64, 1, "tiny.txt");
        QFAIL("no InputError");
    } catch (const InputError& error) {
        QCOMPARE(QString::fromStdString(error.field()), QStringLiteral("data.path"));
        QCOMPARE(QString::fromStdString(error.source()), QStringLiteral("tiny.txt"));
    }
    QVERIFY_THROWS_EXCEPTION(InputError, TextCorpus::fromFile("/nonexistent/corpus.txt", 0.1, 4, 16, 1));
}

void TestBatchSource::shippedCorpusSplits()
{
    RunConfig config;
    const std::unique_ptr<BatchSource> data = makeBatchSource(config);
    const auto* corpus = dynamic_cast<const TextCorpus*>(data.get());
    QVERIFY(corpus);
    const double fraction = static_cast<double>(corpus->validationText().size())
        / static_cast<double>(corpus->validationText().size() + corpus->trainingText().size());
    QVERIFY2(std::abs(fraction - 0.1) < 0.01, std::to_string(fraction).c_str());
    QVERIFY(!data->hasExactMatch());
    QCOMPARE(data->trainingBatch(0).inputs.sizes(), (torch::IntArrayRef { 32, 64 }));
}

void TestBatchSource::syntheticAnswersCorrect_data()
{
    QTest::addColumn<int>("kind");
    QTest::newRow("sort") << static_cast<int>(DataKind::Sort);
    QTest::newRow("add") << static_cast<int>(DataKind::Add);
}

void TestBatchSource::syntheticAnswersCorrect()
{
    // Parse each generated row back to text and check the answer independently of the generator.
    QFETCH(int, kind);
    const SyntheticTask task(static_cast<DataKind>(kind), 8, 4, 64, 16, 64, 11);
    std::set<std::size_t> lengths;
    for (std::int64_t step = 0; step < 10; ++step) {
        const Batch batch = task.trainingBatch(step);
        for (std::int64_t row = 0; row < batch.rows(); ++row) {
            const std::string text = exampleText(batch, row);
            const std::size_t equals = text.find('=');
            QVERIFY2(equals != std::string::npos && text.back() == '\n', text.c_str());
            QCOMPARE(scoredText(batch, row), text.substr(equals + 1)); // the targets are the answer
            const std::string prompt = text.substr(0, equals);
            const std::string answer = text.substr(equals + 1, text.size() - equals - 2);
            if (kind == static_cast<int>(DataKind::Sort)) {
                std::string sorted = prompt;
                std::sort(sorted.begin(), sorted.end());
                QCOMPARE(answer, sorted);
                QVERIFY(prompt.size() >= 2 && prompt.size() <= 8);
                QVERIFY(std::all_of(prompt.begin(), prompt.end(), [](char c) { return c >= '0' && c <= '9'; }));
                lengths.insert(prompt.size());
            } else {
                const std::size_t plus = prompt.find('+');
                QVERIFY(plus != std::string::npos);
                const long long a = std::stoll(prompt.substr(0, plus));
                const long long b = std::stoll(prompt.substr(plus + 1));
                QVERIFY(a >= 0 && a < 10000 && b >= 0 && b < 10000);
                QCOMPARE(answer, std::to_string(a + b));
            }
        }
    }
    if (kind == static_cast<int>(DataKind::Sort))
        QCOMPARE(lengths.size(), std::size_t(7)); // every length 2..8 drawn
    QVERIFY(torch::equal(task.trainingBatch(5).inputs,
        SyntheticTask(static_cast<DataKind>(kind), 8, 4, 64, 16, 64, 11).trainingBatch(5).inputs));
}

void TestBatchSource::syntheticHeldOutNeverTrained()
{
    // Length ≤ 3 sorts: 1,100 prompts, 300 held out, so training draws hit held-out ones often.
    const SyntheticTask task(DataKind::Sort, 3, 4, 300, 32, 16, 5);
    QCOMPARE(task.heldOut().size(), std::size_t(300));
    std::set<std::string> heldOut;
    for (const SyntheticExample& example : task.heldOut())
        heldOut.insert(example.prompt);
    QCOMPARE(heldOut.size(), std::size_t(300)); // distinct
    for (std::int64_t step = 0; step < 50; ++step) {
        const Batch batch = task.trainingBatch(step);
        for (std::int64_t row = 0; row < batch.rows(); ++row) {
            const std::string text = exampleText(batch, row);
            QVERIFY2(!heldOut.count(text.substr(0, text.find('='))), text.c_str());
        }
    }
    // Validation batches are the held-out set, in order.
    const std::vector<Batch> validation = task.validationBatches(100);
    QCOMPARE(validation.size(), std::size_t(10)); // 300 examples in batches of 32
    QCOMPARE(exampleText(validation[0], 0), task.heldOut()[0].text());
    QCOMPARE(exampleText(validation[9], 11), task.heldOut()[299].text());
}

void TestBatchSource::syntheticTargetsOnlyOnAnswers()
{
    const SyntheticTask task(DataKind::Add, 8, 3, 16, 4, 20, 2);
    const Batch batch = task.encode({ SyntheticExample { "12+345", "357" } });
    // "12+345=357\n": input position t predicts byte t + 1; answer bytes are 7..10.
    const torch::Tensor targets = batch.targets[0];
    for (std::int64_t t = 0; t < 20; ++t) {
        const std::int64_t expected = t >= 6 && t <= 9 ? static_cast<unsigned char>("357\n"[t - 6]) : kIgnoreTarget;
        QCOMPARE(targets[t].item<std::int64_t>(), expected);
    }
    QCOMPARE(rowText(batch.inputs[0].slice(0, 0, 11)), std::string("12+345=357\n"));
    QCOMPARE(batch.inputs[0][11].item<std::int64_t>(), std::int64_t(0)); // padding
}

void TestBatchSource::microbatchSplit()
{
    const TextCorpus corpus(numberedText(20480), 0.1, 8, 16, 7);
    const Batch batch = corpus.trainingBatch(0);
    const std::vector<Batch> parts = batch.split(4);
    QCOMPARE(parts.size(), std::size_t(4));
    QVERIFY(
        torch::equal(torch::cat({ parts[0].inputs, parts[1].inputs, parts[2].inputs, parts[3].inputs }), batch.inputs));
    QVERIFY(torch::equal(parts[3].targets, batch.targets.slice(0, 6, 8)));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, batch.split(3));
}

QTEST_APPLESS_MAIN(TestBatchSource)
#include "tst_batchsource.moc"
