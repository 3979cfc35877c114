#pragma once

#include "core/engine/run_config.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace tfreeze {

// The New run dialog: a form over the run config (model size, data, schedule, ranks, microbatches,
// stages per rank, freezer, steps, bound, database), starting from a shipped preset or a config
// file. OK is accepted only for a config the engine can run; otherwise the rule that failed is
// shown under the form, naming the key.
class NewRunDialog : public QDialog {
    Q_OBJECT
public:
    explicit NewRunDialog(QWidget* parent = nullptr);

    // Fills the form from `config` (the preset list keeps its selection).
    void setConfig(const RunConfig& config);
    // The config the form describes; valid once the dialog was accepted.
    RunConfig config() const { return m_config; }
    QString runName() const;
    // One process per pipeline rank (c10d Gloo on loopback) instead of one thread per rank; only
    // offered for more than one rank, by an engine with Gloo.
    bool processPerRank() const;
    // The text under the form: empty, or why the config was refused.
    QString errorText() const;

    // The shipped presets: resources/configs/*.json, by file name.
    static QStringList presetPaths();
    // The studio's default run: resources/configs/default.json with the TimelyFreeze freezer, so that
    // a first run shows every phase, a plan and its effect.
    static RunConfig studioDefaultConfig();

    void accept() override;

private:
    void loadPreset(int index);
    void browseConfigFile();
    void browseDataFile();
    void browseInitFolder();
    // The form's values over the base config (keys the form does not show keep the base's values).
    RunConfig formConfig() const;
    // Updates which fields apply (data path for text, stages per rank for interleaved schedules).
    void updateEnabledFields();

    RunConfig m_base;
    RunConfig m_config;
    QComboBox* m_preset = nullptr;
    QLineEdit* m_name = nullptr;
    QSpinBox* m_width = nullptr;
    QSpinBox* m_blocks = nullptr;
    QSpinBox* m_heads = nullptr;
    QComboBox* m_dataKind = nullptr;
    QLineEdit* m_dataPath = nullptr;
    QLineEdit* m_initFrom = nullptr; // RunConfig::initFrom
    QComboBox* m_schedule = nullptr;
    QSpinBox* m_ranks = nullptr;
    QSpinBox* m_microbatches = nullptr;
    QSpinBox* m_stagesPerRank = nullptr;
    QSpinBox* m_batchSize = nullptr;
    QComboBox* m_freezer = nullptr;
    QSpinBox* m_steps = nullptr;
    QDoubleSpinBox* m_maxFreeze = nullptr;
    QLineEdit* m_database = nullptr;
    QCheckBox* m_processPerRank = nullptr;
    QLabel* m_error = nullptr;
};

} // namespace tfreeze
