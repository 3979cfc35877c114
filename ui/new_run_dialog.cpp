#include "ui/new_run_dialog.h"

#include "core/plan/plan_error.h"
#ifdef TFREEZE_WITH_ENGINE
#include "core/engine/training_session.h"
#endif

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <array>

namespace tfreeze {

namespace {

constexpr std::array kScheduleKinds { ScheduleKind::GPipe, ScheduleKind::OneFOneB, ScheduleKind::Interleaved1F1B,
    ScheduleKind::ZBH1, ScheduleKind::ZBV };
constexpr std::array kFreezerKinds { FreezerKind::None, FreezerKind::TimelyFreeze, FreezerKind::Apf,
    FreezerKind::AutoFreeze, FreezerKind::TimelyApf, FreezerKind::TimelyAutoFreeze };
constexpr std::array kDataKinds { DataKind::Text, DataKind::Sort, DataKind::Add };

QString configsDir() { return QStringLiteral(TFREEZE_RESOURCES_DIR "/configs"); }

QSpinBox* spinBox(int minimum, int maximum, QWidget* parent)
{
    auto* box = new QSpinBox(parent);
    box->setRange(minimum, maximum);
    return box;
}

} // namespace

QStringList NewRunDialog::presetPaths()
{
    QStringList paths;
    const QDir dir(configsDir());
    for (const QString& name : dir.entryList({ QStringLiteral("*.json") }, QDir::Files, QDir::Name))
        paths << dir.filePath(name);
    return paths;
}

RunConfig NewRunDialog::studioDefaultConfig()
{
    RunConfig config = readRunConfigFile(QDir(configsDir()).filePath(QStringLiteral("default.json")).toStdString());
    config.freezer.kind = FreezerKind::TimelyFreeze;
    return config;
}

NewRunDialog::NewRunDialog(QWidget* parent)
    : QDialog(parent)
{
    setWindowTitle(tr("New run"));
    auto* form = new QFormLayout;

    m_preset = new QComboBox(this);
    for (const QString& path : presetPaths())
        m_preset->addItem(QFileInfo(path).fileName(), path);
    auto* openConfig = new QPushButton(tr("Open config…"), this);
    auto* presetRow = new QHBoxLayout;
    presetRow->addWidget(m_preset, 1);
    presetRow->addWidget(openConfig);
    form->addRow(tr("&Preset:"), presetRow);

    m_name = new QLineEdit(this);
    m_name->setPlaceholderText(tr("e.g. 1F1B 4×8 timelyfreeze ρ=0.9"));
    form->addRow(tr("&Name:"), m_name);

    m_width = spinBox(8, 4096, this);
    m_blocks = spinBox(1, 256, this);
    m_heads = spinBox(1, 64, this);
    auto* modelRow = new QHBoxLayout;
    modelRow->addWidget(new QLabel(tr("width"), this));
    modelRow->addWidget(m_width);
    modelRow->addWidget(new QLabel(tr("blocks"), this));
    modelRow->addWidget(m_blocks);
    modelRow->addWidget(new QLabel(tr("heads"), this));
    modelRow->addWidget(m_heads);
    form->addRow(tr("&Model:"), modelRow);

    m_dataKind = new QComboBox(this);
    for (const DataKind kind : kDataKinds)
        m_dataKind->addItem(QString::fromLatin1(dataKindName(kind)));
    m_dataPath = new QLineEdit(this);
    m_dataPath->setPlaceholderText(tr("the shipped corpus"));
    auto* browseData = new QPushButton(tr("Browse…"), this);
    auto* dataRow = new QHBoxLayout;
    dataRow->addWidget(m_dataKind);
    dataRow->addWidget(m_dataPath, 1);
    dataRow->addWidget(browseData);
    form->addRow(tr("&Data:"), dataRow);

    m_initFrom = new QLineEdit(this);
    m_initFrom->setPlaceholderText(tr("the seed's initialisation"));
    m_initFrom->setToolTip(tr("A checkpoint folder (or the output folder of its run) whose model weights the run "
                              "starts from, as fine-tuning does: the optimizer, the freezer and the steps start "
                              "afresh. The model must be the checkpoint's."));
    auto* browseInit = new QPushButton(tr("Browse…"), this);
    auto* initRow = new QHBoxLayout;
    initRow->addWidget(m_initFrom, 1);
    initRow->addWidget(browseInit);
    form->addRow(tr("Initial &weights:"), initRow);

    m_schedule = new QComboBox(this);
    for (const ScheduleKind kind : kScheduleKinds)
        m_schedule->addItem(QString::fromStdString(scheduleKindName(kind)));
    form->addRow(tr("&Schedule:"), m_schedule);
    m_ranks = spinBox(1, 64, this);
    m_microbatches = spinBox(1, 1024, this);
    m_stagesPerRank = spinBox(1, 8, this);
    auto* shapeRow = new QHBoxLayout;
    shapeRow->addWidget(new QLabel(tr("ranks"), this));
    shapeRow->addWidget(m_ranks);
    shapeRow->addWidget(new QLabel(tr("microbatches"), this));
    shapeRow->addWidget(m_microbatches);
    shapeRow->addWidget(new QLabel(tr("stages per rank"), this));
    shapeRow->addWidget(m_stagesPerRank);
    form->addRow(tr("Pipeline:"), shapeRow);
    m_batchSize = spinBox(1, 65536, this);
    m_batchSize->setToolTip(tr("Windows or examples per batch; a multiple of the microbatches"));
    form->addRow(tr("&Batch size:"), m_batchSize);

    m_freezer = new QComboBox(this);
    for (const FreezerKind kind : kFreezerKinds)
        m_freezer->addItem(QString::fromLatin1(freezerKindName(kind)));
    form->addRow(tr("&Freezer:"), m_freezer);
    m_maxFreeze = new QDoubleSpinBox(this);
    m_maxFreeze->setRange(0.0, 1.0);
    m_maxFreeze->setSingleStep(0.05);
    m_maxFreeze->setDecimals(3);
    m_maxFreeze->setToolTip(tr("Accuracy bound: the largest mean freeze ratio of any stage"));
    form->addRow(tr("Max freeze &ρ:"), m_maxFreeze);
    m_steps = spinBox(1, 10'000'000, this);
    form->addRow(tr("S&teps:"), m_steps);
    m_database = new QLineEdit(this);
    m_database->setPlaceholderText(tr("empty: do not record"));
    form->addRow(tr("Data&base:"), m_database);
    m_processPerRank = new QCheckBox(tr("One &process per rank (c10d Gloo on loopback)"), this);
    m_processPerRank->setToolTip(tr("The studio runs rank 0 and starts the other ranks as tfreeze train processes, "
                                    "as tfreeze launch does; unchecked, every rank is a thread of the studio"));
    form->addRow(tr("Processes:"), m_processPerRank);

    // Named for tests and style sheets.
    m_preset->setObjectName(QStringLiteral("preset"));
    m_name->setObjectName(QStringLiteral("name"));
    m_width->setObjectName(QStringLiteral("width"));
    m_blocks->setObjectName(QStringLiteral("blocks"));
    m_heads->setObjectName(QStringLiteral("heads"));
    m_dataKind->setObjectName(QStringLiteral("dataKind"));
    m_dataPath->setObjectName(QStringLiteral("dataPath"));
    m_initFrom->setObjectName(QStringLiteral("initFrom"));
    m_schedule->setObjectName(QStringLiteral("schedule"));
    m_ranks->setObjectName(QStringLiteral("ranks"));
    m_microbatches->setObjectName(QStringLiteral("microbatches"));
    m_stagesPerRank->setObjectName(QStringLiteral("stagesPerRank"));
    m_batchSize->setObjectName(QStringLiteral("batchSize"));
    m_freezer->setObjectName(QStringLiteral("freezer"));
    m_maxFreeze->setObjectName(QStringLiteral("maxFreeze"));
    m_steps->setObjectName(QStringLiteral("steps"));
    m_database->setObjectName(QStringLiteral("database"));
    m_processPerRank->setObjectName(QStringLiteral("processPerRank"));

    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QPalette errorPalette = m_error->palette();
    errorPalette.setColor(QPalette::WindowText, QColor(200, 40, 40));
    m_error->setPalette(errorPalette);
    m_error->hide();

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("&Start"));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);

    connect(buttons, &QDialogButtonBox::accepted, this, &NewRunDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &NewRunDialog::reject);
    connect(m_preset, qOverload<int>(&QComboBox::activated), this, &NewRunDialog::loadPreset);
    connect(openConfig, &QPushButton::clicked, this, &NewRunDialog::browseConfigFile);
    connect(browseData, &QPushButton::clicked, this, &NewRunDialog::browseDataFile);
    connect(browseInit, &QPushButton::clicked, this, &NewRunDialog::browseInitFolder);
    connect(m_dataKind, &QComboBox::currentIndexChanged, this, &NewRunDialog::updateEnabledFields);
    connect(m_schedule, &QComboBox::currentIndexChanged, this, &NewRunDialog::updateEnabledFields);
    connect(m_ranks, &QSpinBox::valueChanged, this, &NewRunDialog::updateEnabledFields);

    const int defaultIndex = m_preset->findText(QStringLiteral("default.json"));
    if (defaultIndex >= 0)
        m_preset->setCurrentIndex(defaultIndex);
    try {
        setConfig(studioDefaultConfig());
    } catch (const std::exception& error) {
        // A named object: GCC 12 at -O2 took the temporary's members for uninitialised
        // (-Wmaybe-uninitialized inside the inlined copy).
        const RunConfig builtInDefaults;
        setConfig(builtInDefaults);
        m_error->setText(tr("The default config could not be read: %1").arg(QString::fromStdString(error.what())));
        m_error->show();
    }
}

void NewRunDialog::setConfig(const RunConfig& config)
{
    m_base = config;
    m_config = config;
    m_width->setValue(config.model.width);
    m_blocks->setValue(config.model.blocks);
    m_heads->setValue(config.model.heads);
    m_dataKind->setCurrentText(QString::fromLatin1(dataKindName(config.data.kind)));
    m_dataPath->setText(QString::fromStdString(config.data.path));
    m_initFrom->setText(QString::fromStdString(config.initFrom));
    m_schedule->setCurrentText(QString::fromStdString(scheduleKindName(config.schedule.kind)));
    m_ranks->setValue(config.schedule.ranks);
    m_microbatches->setValue(config.schedule.microbatches);
    m_stagesPerRank->setValue(config.schedule.stagesPerRank);
    m_batchSize->setValue(config.data.batchSize);
    m_freezer->setCurrentText(QString::fromLatin1(freezerKindName(config.freezer.kind)));
    m_maxFreeze->setValue(config.bounds.maxFreeze);
    m_steps->setValue(static_cast<int>(std::min<std::int64_t>(config.steps, m_steps->maximum())));
    m_database->setText(QString::fromStdString(config.output.db));
    updateEnabledFields();
}

QString NewRunDialog::runName() const
{
    if (!m_name->text().trimmed().isEmpty())
        return m_name->text().trimmed();
    return QStringLiteral("%1 %2×%3 %4")
        .arg(m_schedule->currentText())
        .arg(m_ranks->value())
        .arg(m_microbatches->value())
        .arg(m_freezer->currentText());
}

bool NewRunDialog::processPerRank() const { return m_processPerRank->isEnabled() && m_processPerRank->isChecked(); }

QString NewRunDialog::errorText() const { return m_error->isHidden() ? QString() : m_error->text(); }

RunConfig NewRunDialog::formConfig() const
{
    RunConfig config = m_base;
    config.model.width = m_width->value();
    config.model.blocks = m_blocks->value();
    config.model.heads = m_heads->value();
    config.data.kind = kDataKinds.at(static_cast<std::size_t>(m_dataKind->currentIndex()));
    config.data.path = m_dataPath->text().trimmed().toStdString();
    config.initFrom = m_initFrom->text().trimmed().toStdString();
    config.schedule.kind = kScheduleKinds.at(static_cast<std::size_t>(m_schedule->currentIndex()));
    config.schedule.ranks = m_ranks->value();
    config.schedule.microbatches = m_microbatches->value();
    config.schedule.stagesPerRank = m_stagesPerRank->value();
    config.data.batchSize = m_batchSize->value();
    config.freezer.kind = kFreezerKinds.at(static_cast<std::size_t>(m_freezer->currentIndex()));
    config.bounds.maxFreeze = m_maxFreeze->value();
    config.steps = m_steps->value();
    config.output.db = m_database->text().trimmed().toStdString();
    // A per-stage partition or bound of the base config no longer fits another shape.
    if (config.schedule.stageCount() != m_base.schedule.stageCount() || config.model.blocks != m_base.model.blocks)
        config.partition.clear();
    if (config.schedule.stageCount() != m_base.schedule.stageCount())
        config.bounds.maxFreezePerStage.clear();
    return config;
}

void NewRunDialog::accept()
{
    const RunConfig config = formConfig();
    try {
        validateRunConfig(config, "New run");
        validateScheduleShape(config.schedule);
        // A missing corpus or checkpoint would fail the run as it starts; say so here, where it can
        // be fixed.
        checkRunInputs(config, "New run");
    } catch (const InputError& error) {
        m_error->setText(QString::fromStdString(error.what()));
        m_error->show();
        return;
    }
    m_error->hide();
    m_config = config;
    QDialog::accept();
}

void NewRunDialog::loadPreset(int index)
{
    const QString path = m_preset->itemData(index).toString();
    try {
        setConfig(readRunConfigFile(path.toStdString()));
        m_error->hide();
    } catch (const std::exception& error) {
        m_error->setText(QString::fromStdString(error.what()));
        m_error->show();
    }
}

void NewRunDialog::browseConfigFile()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open run config"), configsDir(), tr("Run configs (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    try {
        setConfig(readRunConfigFile(path.toStdString()));
        m_preset->setCurrentIndex(-1);
        m_error->hide();
    } catch (const std::exception& error) {
        m_error->setText(QString::fromStdString(error.what()));
        m_error->show();
    }
}

void NewRunDialog::browseDataFile()
{
    const QString path
        = QFileDialog::getOpenFileName(this, tr("Training text"), QString(), tr("Text (*.txt);;All files (*)"));
    if (!path.isEmpty())
        m_dataPath->setText(path);
}

void NewRunDialog::browseInitFolder()
{
    const QString path = QFileDialog::getExistingDirectory(this, tr("Start from the weights of a checkpoint"));
    if (!path.isEmpty())
        m_initFrom->setText(path);
}

void NewRunDialog::updateEnabledFields()
{
    m_dataPath->setEnabled(m_dataKind->currentIndex() == 0);
    const ScheduleKind kind = kScheduleKinds.at(static_cast<std::size_t>(std::max(0, m_schedule->currentIndex())));
    const bool multiStage = kind == ScheduleKind::Interleaved1F1B || kind == ScheduleKind::ZBV;
    m_stagesPerRank->setEnabled(multiStage);
    if (!multiStage)
        m_stagesPerRank->setValue(1);
    else if (kind == ScheduleKind::ZBV)
        m_stagesPerRank->setValue(2);
#ifdef TFREEZE_WITH_ENGINE
    const bool gloo = multiProcessRunsAvailable();
#else
    const bool gloo = false;
#endif
    m_processPerRank->setEnabled(gloo && m_ranks->value() > 1);
    if (!gloo)
        m_processPerRank->setToolTip(tr("Not in this build: it has no training engine with c10d Gloo"));
}

} // namespace tfreeze
