// The New run dialog: the form shows the config it was given, returns the config the form
// describes, and refuses (staying open, naming the key) a config the engine cannot run.

#include "core/engine/run_config.h"
#ifdef TFREEZE_WITH_ENGINE
#include "core/engine/training_session.h"
#endif
#include "ui/new_run_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLineEdit>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

using namespace tfreeze;

namespace {

// What the dialog looks for in a checkpoint folder (its contents are the engine's to check).
bool writeCheckpointManifest(const QString& folder)
{
    QDir().mkpath(folder);
    QFile manifest(folder + QStringLiteral("/checkpoint.json"));
    return manifest.open(QIODevice::WriteOnly) && manifest.write("{}") == 2;
}

} // namespace

class TestNewRunDialog : public QObject {
    Q_OBJECT

private slots:
    void startsFromTheStudioDefault()
    {
        NewRunDialog dialog;
        const RunConfig expected = NewRunDialog::studioDefaultConfig();
        QCOMPARE(expected.freezer.kind, FreezerKind::TimelyFreeze);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(dialog.config() == expected);
        QVERIFY(dialog.runName().contains(QStringLiteral("timelyfreeze")));
    }

    void presetsAreTheShippedConfigs()
    {
        const QStringList presets = NewRunDialog::presetPaths();
        QVERIFY(presets.size() >= 5);
        for (const QString& path : presets)
            readRunConfigFile(path.toStdString()); // throws if a shipped preset does not parse
    }

    // Picking a preset (keyboard on the combo box) fills the form with that file's config.
    void pickingAPresetFillsTheForm()
    {
        NewRunDialog dialog;
        auto* preset = dialog.findChild<QComboBox*>(QStringLiteral("preset"));
        QVERIFY(preset);
        QCOMPARE(preset->currentText(), QStringLiteral("default.json"));
        const QStringList presets = NewRunDialog::presetPaths();
        QCOMPARE(preset->count(), presets.size());
        preset->setFocus();
        QTest::keyClick(preset, Qt::Key_Home);
        for (int index = 0; index < presets.size(); ++index) {
            if (index > 0)
                QTest::keyClick(preset, Qt::Key_Down);
            QCOMPARE(preset->currentIndex(), index);
            const RunConfig expected = readRunConfigFile(presets[index].toStdString());
            QVERIFY2(dialog.config() == expected, qPrintable(presets[index]));
        }
        // The form says what the last one holds, and that is what the dialog returns.
        const RunConfig last = readRunConfigFile(presets.back().toStdString());
        QCOMPARE(dialog.findChild<QComboBox*>(QStringLiteral("schedule"))->currentText().toStdString(),
            scheduleKindName(last.schedule.kind));
        QCOMPARE(dialog.findChild<QSpinBox*>(QStringLiteral("ranks"))->value(), last.schedule.ranks);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(dialog.config() == last);
    }

    void returnsWhatTheFormSays()
    {
        NewRunDialog dialog;
        RunConfig config = NewRunDialog::studioDefaultConfig();
        config.schedule = { ScheduleKind::GPipe, 2, 4, 1 };
        config.data.batchSize = 16;
        config.freezer.kind = FreezerKind::Apf;
        config.bounds.maxFreeze = 0.35;
        config.steps = 77;
        config.output.db = "somewhere/else.sqlite";
        const QTemporaryDir pretrained;
        QVERIFY(writeCheckpointManifest(pretrained.path() + QStringLiteral("/checkpoint")));
        config.initFrom = pretrained.path().toStdString();
        dialog.setConfig(config);
        QCOMPARE(dialog.findChild<QLineEdit*>(QStringLiteral("initFrom"))->text(), pretrained.path());
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(dialog.config() == config);
    }

    // The checkpoint a run starts from: typed (or browsed) into its field, either the checkpoint's
    // folder or the output folder of the run that wrote it; a folder with none is refused, saying
    // what would write one; cleared, none.
    void startFromACheckpoint()
    {
        NewRunDialog dialog;
        auto* initFrom = dialog.findChild<QLineEdit*>(QStringLiteral("initFrom"));
        QVERIFY(initFrom);
        QVERIFY(initFrom->text().isEmpty());
        const QTemporaryDir run;
        initFrom->setText(QStringLiteral("  %1 ").arg(run.path()));
        dialog.accept();
        QVERIFY(dialog.result() != QDialog::Accepted);
        QVERIFY2(dialog.errorText().contains(QStringLiteral("init_from: no checkpoint in ") + run.path())
                && dialog.errorText().contains(QStringLiteral("pretrain.json")),
            qPrintable(dialog.errorText()));
        const QString checkpoint = run.path() + QStringLiteral("/checkpoint");
        QVERIFY(writeCheckpointManifest(checkpoint));
        for (const QString& folder : { run.path(), checkpoint }) {
            initFrom->setText(QStringLiteral(" %1 ").arg(folder));
            dialog.accept();
            QCOMPARE(dialog.result(), int(QDialog::Accepted));
            QCOMPARE(dialog.config().initFrom, folder.toStdString());
            QVERIFY(dialog.errorText().isEmpty());
        }
        initFrom->clear();
        dialog.accept();
        QVERIFY(dialog.config().initFrom.empty());
    }

    // One process per rank is offered for two ranks or more, by an engine with Gloo; unchecked by
    // default, and off again when the pipeline shrinks to one rank.
    void processPerRankNeedsRanks()
    {
        NewRunDialog dialog;
        auto* box = dialog.findChild<QCheckBox*>(QStringLiteral("processPerRank"));
        auto* ranks = dialog.findChild<QSpinBox*>(QStringLiteral("ranks"));
        QVERIFY(box && ranks);
        QVERIFY(!dialog.processPerRank());
        ranks->setValue(2);
#ifdef TFREEZE_WITH_ENGINE
        const bool offered = multiProcessRunsAvailable();
#else
        const bool offered = false;
#endif
        QCOMPARE(box->isEnabled(), offered);
        box->setChecked(true);
        QCOMPARE(dialog.processPerRank(), offered);
        ranks->setValue(1);
        QVERIFY(!box->isEnabled());
        QVERIFY(!dialog.processPerRank());
    }

    void refusesABadConfigNamingTheKey()
    {
        NewRunDialog dialog;
        RunConfig config = NewRunDialog::studioDefaultConfig();
        config.schedule.microbatches = 8;
        config.data.batchSize = 8;
        dialog.setConfig(config);
        // 12 microbatches do not divide a batch of 8.
        QVERIFY(dialog.findChild<QSpinBox*>(QStringLiteral("microbatches")));
        auto* microbatches = dialog.findChild<QSpinBox*>(QStringLiteral("microbatches"));
        QCOMPARE(microbatches->value(), 8);
        microbatches->setValue(12);
        dialog.accept();
        QVERIFY(dialog.result() != QDialog::Accepted);
        QVERIFY2(dialog.errorText().contains(QStringLiteral("batch_size")), qPrintable(dialog.errorText()));
        // Fixed, it is accepted.
        microbatches->setValue(4);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.config().schedule.microbatches, 4);
        QVERIFY(dialog.errorText().isEmpty());
    }

    void interleavedNeedsTwoStagesPerRank()
    {
        NewRunDialog dialog;
        auto* schedule = dialog.findChild<QComboBox*>(QStringLiteral("schedule"));
        QCOMPARE(schedule->currentText(), QStringLiteral("1F1B"));
        schedule->setCurrentText(QStringLiteral("ZBV"));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.config().schedule.kind, ScheduleKind::ZBV);
        QCOMPARE(dialog.config().schedule.stagesPerRank, 2);
    }
};

QTEST_MAIN(TestNewRunDialog)
#include "tst_newrundialog.moc"
