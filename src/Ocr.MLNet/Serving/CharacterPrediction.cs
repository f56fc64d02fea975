namespace Ocr.MLNet.Serving;

/// <summary>One image's result from <see cref="CharacterRecognizer"/>: the best class and the few best, best first.</summary>
/// <param name="PredictedCharacter">The most probable class (a class name, as the model's <c>PredictedCharacter</c>).</param>
/// <param name="Score">Its probability.</param>
/// <param name="TopK">The most probable classes, best first (ties keep class order), as <see cref="CharacterScores.TopK"/> gives them.</param>
public sealed record CharacterPrediction(string PredictedCharacter, float Score, IReadOnlyList<ClassScore> TopK);
