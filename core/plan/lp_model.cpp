#include "core/plan/lp_model.h"

#include "core/plan/plan_error.h"

#include <lp_lib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace tfreeze {

namespace {
// make_lp writes unsynchronised global state (measured: SETUP-NOTES.md).
std::mutex& lpCreationMutex()
{
    static std::mutex mutex;
    return mutex;
}
constexpr std::uint64_t kFnvOffset = 14695981039346656037ULL;

// FNV-1a over the value's eight bytes.
void mixInto(std::uint64_t& hash, std::uint64_t value)
{
    for (int byte = 0; byte < 8; ++byte) {
        hash ^= (value >> (8 * byte)) & 0xffU;
        hash *= 1099511628211ULL;
    }
}
} // namespace

struct LpModel::Private {
    lprec* lp = nullptr;
    AbortCheck abortCheck;
    bool aborted = false; // by abortCheck, in the solve in progress or the last one
    std::uint64_t fingerprint = kFnvOffset; // of the rows so far (structureFingerprint())

    // lp_solve's abort callback: TRUE stops the solve.
    static int __WINAPI onAbortCheck(lprec* lp, void* handle)
    {
        auto* self = static_cast<Private*>(handle);
        if (!self->aborted && self->abortCheck && self->abortCheck(static_cast<long long>(get_total_iter(lp))))
            self->aborted = true;
        return self->aborted ? TRUE : FALSE;
    }
};

LpModel::LpModel(int columns)
    : d(std::make_unique<Private>())
{
    {
        std::lock_guard<std::mutex> lock(lpCreationMutex());
        d->lp = make_lp(0, columns);
    }
    if (!d->lp)
        throw PlannerError("lp_solve could not create a model with " + std::to_string(columns) + " columns");
    set_verbose(d->lp, NEUTRAL); // the default verbosity prints solver logs to stdout
}

LpModel::~LpModel()
{
    if (d->lp) {
        std::lock_guard<std::mutex> lock(lpCreationMutex());
        delete_lp(d->lp);
    }
}

void LpModel::beginRows() { set_add_rowmode(d->lp, TRUE); }

void LpModel::endRows() { set_add_rowmode(d->lp, FALSE); }

int LpModel::addRow(const std::vector<int>& columns, const std::vector<double>& values, RowSense sense, double rhs)
{
    const int type = sense == RowSense::LessEqual ? LE : sense == RowSense::GreaterEqual ? GE : EQ;
    // lp_solve takes non-const pointers but does not write through them.
    if (add_constraintex(d->lp, static_cast<int>(columns.size()), const_cast<double*>(values.data()),
            const_cast<int*>(columns.data()), type, rhs)
        == FALSE)
        throw PlannerError("lp_solve could not add a constraint row");
    mixInto(d->fingerprint, static_cast<std::uint64_t>(type) << 32 | columns.size());
    for (int column : columns)
        mixInto(d->fingerprint, static_cast<std::uint64_t>(column));
    return get_Nrows(d->lp);
}

void LpModel::setBounds(int column, double lower, double upper) { set_bounds(d->lp, column, lower, upper); }

void LpModel::setSemiContinuous(int column, bool semiContinuous)
{
    set_semicont(d->lp, column, semiContinuous ? TRUE : FALSE);
}

void LpModel::setRhs(int row, double rhs) { set_rh(d->lp, row, rhs); }

void LpModel::setObjective(const std::vector<double>& coefficients)
{
    set_obj_fn(d->lp, const_cast<double*>(coefficients.data()));
    set_minim(d->lp);
}

void LpModel::setScaling(Scaling scaling)
{
    // lp_solve 5.5's default mode is SCALE_GEOMETRIC + SCALE_EQUILIBRATE + SCALE_INTEGERS (196).
    const int mode
        = SCALE_GEOMETRIC + SCALE_INTEGERS + (scaling == Scaling::GeometricEquilibrated ? SCALE_EQUILIBRATE : 0);
    set_scaling(d->lp, mode);
}

void LpModel::setTimeout(double seconds) { set_timeout(d->lp, static_cast<long>(std::ceil(std::max(1.0, seconds)))); }

void LpModel::setAbortCheck(AbortCheck check)
{
    d->abortCheck = std::move(check);
    put_abortfunc(d->lp, d->abortCheck ? &Private::onAbortCheck : nullptr, d.get());
}

LpModel::Status LpModel::solve()
{
    // A copy of the model in lp_solve's LP format, to reproduce a slow or failing solve with the
    // lp_solve command line (each solve overwrites the file).
    // A name ending in .mps gets free MPS, which keeps the columns in the model's order (the LP
    // format orders them by first use, so a saved basis would not fit it).
    if (const char* path = std::getenv("TFREEZE_LP_WRITE")) {
        const std::string name(path);
        const bool mps = name.size() > 4 && name.compare(name.size() - 4, 4, ".mps") == 0;
        const bool written
            = (mps ? write_freemps(d->lp, const_cast<char*>(path)) : write_lp(d->lp, const_cast<char*>(path))) != 0;
        if (!written)
            std::fprintf(stderr, "TFREEZE_LP_WRITE: cannot write %s\n", path);
    }
    const auto started = std::chrono::steady_clock::now();
    d->aborted = false;
    const int result = ::solve(d->lp);
    if (std::getenv("TFREEZE_LP_DEBUG"))
        std::fprintf(stderr, "lp_solve: solve() returned %d after %.1f ms, %lld iterations\n", result,
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count(),
            static_cast<long long>(get_total_iter(d->lp)));
    // Within branch and bound an abort with a solution in hand returns SUBOPTIMAL: still ours.
    if (d->aborted)
        return Status::Cancelled;
    switch (result) {
    case OPTIMAL:
    case PRESOLVED:
        return Status::Optimal;
    case INFEASIBLE:
        return Status::Infeasible;
    case UNBOUNDED:
        return Status::Unbounded;
    case SUBOPTIMAL:
    case TIMEOUT:
    case USERABORT:
        return Status::TimedOut;
    default:
        return Status::Failed;
    }
}

bool LpModel::setBasis(const std::vector<int>& basis)
{
    const std::size_t expected
        = 1 + static_cast<std::size_t>(get_Nrows(d->lp)) + static_cast<std::size_t>(get_Ncolumns(d->lp));
    // set_basis takes a non-const pointer but does not write through it.
    return basis.size() == expected && set_basis(d->lp, const_cast<int*>(basis.data()), TRUE) == TRUE;
}

std::vector<int> LpModel::basis() const
{
    std::vector<int> basis(
        1 + static_cast<std::size_t>(get_Nrows(d->lp)) + static_cast<std::size_t>(get_Ncolumns(d->lp)), 0);
    if (get_basis(d->lp, basis.data(), TRUE) == FALSE)
        return {};
    return basis;
}

std::uint64_t LpModel::structureFingerprint() const
{
    std::uint64_t hash = d->fingerprint;
    mixInto(hash, static_cast<std::uint64_t>(get_Ncolumns(d->lp)));
    return hash;
}

std::vector<double> LpModel::columnValues() const
{
    std::vector<double> values(static_cast<std::size_t>(get_Ncolumns(d->lp)) + 1, 0.0);
    get_variables(d->lp, values.data() + 1);
    return values;
}

double LpModel::objectiveValue() const { return get_working_objective(d->lp); }

long long LpModel::pivotCount() const { return static_cast<long long>(get_total_iter(d->lp)); }

int LpModel::rowCount() const { return get_Nrows(d->lp); }

int LpModel::columnCount() const { return get_Ncolumns(d->lp); }

long long LpModel::nonZeroCount() const { return get_nonzeros(d->lp); }

std::string lpSolveVersion()
{
    int major = 0;
    int minor = 0;
    int release = 0;
    int build = 0;
    lp_solve_version(&major, &minor, &release, &build);
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release) + "."
        + std::to_string(build);
}

} // namespace tfreeze
