// Measures the sequential reference trainer: tokens/s of a config and the loss after a time
// budget. Not a test (timing): `bench_sequential [config.json] [seconds] [threads]`.
#include "core/engine/evaluation.h"
#include "core/engine/sequential_trainer.h"

#include <chrono>
#include <cstdio>
#include <string>

using namespace tfreeze;

int main(int argc, char** argv)
{
    // Assigned, not a conditional with a `RunConfig {}` temporary: that trips GCC 12's -Wmaybe-uninitialized.
    RunConfig config;
    if (argc > 1 && std::string(argv[1]) != "-")
        config = readRunConfigFile(argv[1]);
    const double budget = argc > 2 ? std::stod(argv[2]) : 60.0;
    torch::set_num_threads(argc > 3 ? std::stoi(argv[3]) : 2);
    const std::unique_ptr<BatchSource> data = makeBatchSource(config);
    SequentialTrainer trainer(config);
    const auto start = std::chrono::steady_clock::now();
    std::int64_t tokens = 0;
    double seconds = 0.0;
    TrainingStepResult result;
    for (std::int64_t step = 0; step < config.steps && seconds < budget; ++step) {
        const auto t0 = std::chrono::steady_clock::now();
        result = trainer.step(data->trainingBatch(step));
        const double stepSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        tokens += result.tokens;
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (step < 5 || step % 10 == 0)
            std::printf("step %lld loss %.4f lr %.2e norm %.3f step %.0f ms, %.0f tokens/s overall\n",
                static_cast<long long>(step), result.loss, result.learningRate, result.gradientNorm, stepSeconds * 1e3,
                static_cast<double>(tokens) / seconds);
    }
    const EvalStats eval = evaluate(trainer.model(), *data, config.evalBatches);
    std::printf("%lld steps in %.1f s: %.0f tokens/s; last train loss %.4f; validation loss %.4f, "
                "perplexity %.2f, token accuracy %.3f, exact match %.3f\n",
        static_cast<long long>(trainer.stepsDone()), seconds, static_cast<double>(tokens) / seconds, result.loss,
        eval.validationLoss, eval.perplexity, eval.tokenAccuracy, eval.exactMatch);
}
