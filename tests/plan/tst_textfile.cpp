#include "core/plan/plan_error.h"
#include "core/plan/text_file.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <sys/stat.h>

using namespace tfreeze;
using namespace Qt::StringLiterals;

namespace {

// Qt's own UTF-8 decoder, an independent judge of well-formed UTF-8 (it rejects overlong forms,
// surrogates and code points past U+10FFFF as the Unicode standard says).
bool isValidUtf8(const std::string& text)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString decoded = decoder.decode(QByteArrayView(text.data(), static_cast<qsizetype>(text.size())));
    return !decoder.hasError() && (text.empty() || !decoded.isEmpty());
}

QString qs(const std::string& text) { return QString::fromStdString(text); }

// The message of the InputError `call` throws; empty when it throws none.
template <typename Call> QString inputErrorOf(Call call)
{
    try {
        call();
    } catch (const InputError& error) {
        return QString::fromUtf8(error.what());
    }
    return {};
}

} // namespace

class TestTextFile : public QObject {
    Q_OBJECT

private slots:
    void printableText_data();
    void printableText();
    void printableTextOfRandomBytes();
    void printableTextCutsOnCharacters();
    void jsonErrorText();
    void readsAndWritesFiles();
    void fileErrorsNameFileAndReason();
    void readsPipesButNotDevices();
    void readStopsPastItsLimit();
    void checkWritableFileWritesNothing();
};

void TestTextFile::printableText_data()
{
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("ASCII") << QByteArray("plain, \"quoted\"\n") << QByteArray("plain, \"quoted\"\n");
    QTest::newRow("two, three and four bytes") << QByteArray("é€😀") << QByteArray("é€😀");
    QTest::newRow("stray continuation") << QByteArray("a\x80z") << QByteArray("a\\x80z");
    QTest::newRow("truncated at the end") << QByteArray("a\xE2\x82") << QByteArray("a\\xE2\\x82");
    QTest::newRow("truncated in the middle") << QByteArray("\xE2\x82z") << QByteArray("\\xE2\\x82z");
    QTest::newRow("overlong slash") << QByteArray("\xC0\xAF") << QByteArray("\\xC0\\xAF");
    QTest::newRow("overlong three bytes") << QByteArray("\xE0\x80\xAF") << QByteArray("\\xE0\\x80\\xAF");
    QTest::newRow("surrogate U+D800") << QByteArray("\xED\xA0\x80") << QByteArray("\\xED\\xA0\\x80");
    QTest::newRow("past U+10FFFF") << QByteArray("\xF4\x90\x80\x80") << QByteArray("\\xF4\\x90\\x80\\x80");
    QTest::newRow("largest code point") << QByteArray("\xF4\x8F\xBF\xBF") << QByteArray("\xF4\x8F\xBF\xBF");
    QTest::newRow("five-byte lead") << QByteArray("\xF8\x88\x80\x80\x80") << QByteArray("\\xF8\\x88\\x80\\x80\\x80");
    QTest::newRow("NUL kept") << QByteArray("a\0b", 3) << QByteArray("a\0b", 3);
}

void TestTextFile::printableText()
{
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, expected);
    QCOMPARE(QByteArray::fromStdString(tfreeze::printableText(input.toStdString())), expected);
}

// Against Qt's decoder on random bytes biased toward UTF-8 lead and continuation bytes: the
// result is always valid UTF-8, and valid input comes back unchanged.
void TestTextFile::printableTextOfRandomBytes()
{
    std::mt19937 random(7);
    const std::string alphabet = "a\\\x7F\x80\xBF\xC0\xC2\xDF\xE0\xE2\xED\xEF\xF0\xF4\xF5\xFF";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::uniform_int_distribution<int> length(0, 12);
    int valid = 0;
    for (int trial = 0; trial < 20000; ++trial) {
        std::string input;
        for (int i = length(random); i > 0; --i)
            input += alphabet[pick(random)];
        const std::string output = tfreeze::printableText(input);
        QVERIFY2(isValidUtf8(output), QByteArray::fromStdString(input).toHex().constData());
        if (isValidUtf8(input)) {
            ++valid;
            QCOMPARE(qs(output), qs(input));
        } else {
            QVERIFY2(output.find("\\x") != std::string::npos, QByteArray::fromStdString(input).toHex().constData());
        }
    }
    QVERIFY(valid > 1000); // the valid branch was exercised
}

void TestTextFile::printableTextCutsOnCharacters()
{
    QCOMPARE(qs(tfreeze::printableText("abcdef", 3)), u"abc..."_s);
    QCOMPARE(qs(tfreeze::printableText("abc", 3)), u"abc"_s);
    // "é" is two bytes: the cut comes after a whole character, never inside one.
    const std::string cut = tfreeze::printableText("aééé", 2);
    QCOMPARE(qs(cut), u"aé..."_s);
    QVERIFY(isValidUtf8(cut));
    // An escaped byte counts as the four characters it became.
    QCOMPARE(qs(tfreeze::printableText("\xFF\xFFz", 4)), u"\\xFF..."_s);
}

void TestTextFile::jsonErrorText()
{
    try {
        const nlohmann::json parsed = nlohmann::json::parse(std::string("{\"a\": \"\xFF"));
        QFAIL(qPrintable(u"the parser accepted ill-formed JSON: "_s + QString::fromStdString(parsed.dump())));
    } catch (const nlohmann::json::exception& error) {
        const std::string text = tfreeze::jsonErrorText(error);
        QVERIFY2(std::string(error.what()).rfind("[json.exception.parse_error.101] ", 0) == 0, error.what());
        QVERIFY2(text.rfind("parse error at line 1", 0) == 0, text.c_str());
        QVERIFY2(isValidUtf8(text), text.c_str());
        QVERIFY2(text.find("\\xFF") != std::string::npos, text.c_str());
    }
    // Any other exception's text passes through, made printable.
    QCOMPARE(qs(tfreeze::jsonErrorText(std::runtime_error("no prefix \xC0"))), u"no prefix \\xC0"_s);
}

void TestTextFile::readsAndWritesFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(u"bytes.bin"_s).toStdString();
    std::string bytes;
    for (int i = 0; i < 3 * 256; ++i)
        bytes += static_cast<char>(i % 256);
    writeTextFile(path, bytes);
    QFile file(QString::fromStdString(path));
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray::fromStdString(bytes)); // binary: no newline translation
    QCOMPARE(readTextFile(path), bytes);
    writeTextFile(path, "shorter");
    QCOMPARE(qs(readTextFile(path)), u"shorter"_s); // replaced, not appended to
    writeTextFile(path, "");
    QCOMPARE(readTextFile(path).size(), std::size_t(0));
}

void TestTextFile::fileErrorsNameFileAndReason()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string missing = dir.filePath(u"missing.json"_s).toStdString();
    QCOMPARE(
        inputErrorOf([&] { readTextFile(missing); }), qs(missing) + u": cannot open file: No such file or directory"_s);
    const std::string folder = dir.path().toStdString();
    QCOMPARE(inputErrorOf([&] { readTextFile(folder); }), qs(folder) + u": cannot read file: Is a directory"_s);
    const std::string inMissingFolder = dir.filePath(u"no/such/folder/out.json"_s).toStdString();
    QCOMPARE(inputErrorOf([&] { writeTextFile(inMissingFolder, "x"); }),
        qs(inMissingFolder) + u": cannot write file: No such file or directory"_s);
    QCOMPARE(inputErrorOf([&] { writeTextFile(folder, "x"); }), qs(folder) + u": cannot write file: Is a directory"_s);
}

// A pipe is read whole (process substitution gives one); a device is refused before it is opened:
// /dev/zero would be read until memory ran out.
void TestTextFile::readsPipesButNotDevices()
{
    QCOMPARE(inputErrorOf([] { readTextFile("/dev/zero"); }), u"/dev/zero: not a file but a character device"_s);
    QCOMPARE(inputErrorOf([] { readTextFile("/dev/null"); }), u"/dev/null: not a file but a character device"_s);

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string fifo = dir.filePath(u"profile.fifo"_s).toStdString();
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    std::string expected;
    for (int i = 0; i < 20000; ++i)
        expected += "{\"line\": " + std::to_string(i) + "}\n"; // several pipe buffers' worth
    std::thread writer([&fifo, &expected] {
        std::ofstream out(fifo, std::ios::binary);
        out << expected;
    });
    const std::string text = readTextFile(fifo);
    writer.join();
    QCOMPARE(text.size(), expected.size());
    QVERIFY(text == expected);
}

// Past the limit nothing more is read: a regular file by its size, a pipe as it comes.
void TestTextFile::readStopsPastItsLimit()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(u"big.json"_s).toStdString();
    writeTextFile(path, std::string(5000, 'x'));
    QCOMPARE(readTextFile(path, 5000).size(), std::size_t(5000));
    QCOMPARE(inputErrorOf([&] { readTextFile(path, 4999); }), qs(path) + u": larger than 4999 bytes; not read"_s);
    QCOMPARE(inputErrorOf([&] { readTextFile(path, 4096); }), qs(path) + u": larger than 4096 bytes; not read"_s);

    const std::string fifo = dir.filePath(u"endless.fifo"_s).toStdString();
    QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
    // The writer's writes after the reader closed fail with EPIPE instead of ending the test.
    std::signal(SIGPIPE, SIG_IGN);
    std::thread writer([&fifo] {
        std::ofstream out(fifo, std::ios::binary);
        // Far more than the limit: the reader stops and closes, and the writer's next write fails.
        const std::string block(1 << 16, 'y');
        for (int i = 0; i < 64 && out; ++i)
            out << block;
    });
    QCOMPARE(inputErrorOf([&] { readTextFile(fifo, std::size_t { 1 } << 20); }),
        qs(fifo) + u": larger than 1 MiB; not read"_s);
    writer.join();
}

// What writeTextFile would say, before anything is written: tfreeze plan checks its outputs so.
void TestTextFile::checkWritableFileWritesNothing()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string fresh = dir.filePath(u"new.json"_s).toStdString();
    QCOMPARE(inputErrorOf([&] { checkWritableFile(fresh); }), QString());
    QVERIFY2(!QFile::exists(qs(fresh)), "the check created the file");
    const std::string existing = dir.filePath(u"old.json"_s).toStdString();
    writeTextFile(existing, "kept");
    QCOMPARE(inputErrorOf([&] { checkWritableFile(existing); }), QString());
    QCOMPARE(qs(readTextFile(existing)), u"kept"_s);

    const std::string inMissingFolder = dir.filePath(u"no/such/folder/out.json"_s).toStdString();
    QCOMPARE(inputErrorOf([&] { checkWritableFile(inMissingFolder); }),
        qs(inMissingFolder) + u": cannot write file: No such file or directory"_s);
    const std::string folder = dir.path().toStdString();
    QCOMPARE(inputErrorOf([&] { checkWritableFile(folder); }), qs(folder) + u": cannot write file: Is a directory"_s);
    const std::string underFile = existing + "/out.json";
    QCOMPARE(
        inputErrorOf([&] { checkWritableFile(underFile); }), qs(underFile) + u": cannot write file: Not a directory"_s);
}

QTEST_APPLESS_MAIN(TestTextFile)

#include "tst_textfile.moc"
