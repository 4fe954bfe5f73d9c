<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja" sourcelanguage="en">
<context>
    <name>Adapter</name>
    <message>
        <source>Cannot load the data set: {0}</source>
        <translation>データセットを読み込めません: {0}</translation>
    </message>
    <message>
        <source>Cannot build the {0}: {1}</source>
        <translation>{0}を構築できません: {1}</translation>
    </message>
    <message>
        <source>experiment</source>
        <translation>実験</translation>
    </message>
    <message>
        <source>Invalid experiment settings</source>
        <extracomment>title of a ConfigError&apos;s messages</extracomment>
        <translation>実験の設定が不正です</translation>
    </message>
</context>
<context>
    <name>LanguageMenu</name>
    <message>
        <source>Lan&amp;guage</source>
        <translation>言語(&amp;G)</translation>
    </message>
    <message>
        <source>Show the lab in this language</source>
        <translation>この言語でラボを表示します</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>&amp;File</source>
        <extracomment>the main window&apos;s menus: name (the menu&apos;s objectName, the same in every language, which gui.teaching finds its menus by) -&gt; title, translated in context ``MainWindow``</extracomment>
        <translation>ファイル(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Run</source>
        <translation>実行(&amp;R)</translation>
    </message>
    <message>
        <source>Spee&amp;d</source>
        <translation>速度(&amp;D)</translation>
    </message>
    <message>
        <source>Pre&amp;sets</source>
        <translation>プリセット(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Tools</source>
        <translation>ツール(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Lessons</source>
        <translation>レッスン(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>表示(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>ヘルプ(&amp;H)</translation>
    </message>
    <message>
        <source>Play / pause training (Space)</source>
        <extracomment>what the transport commands do in this window (see gui.transport.TRANSPORT)</extracomment>
        <translation>学習を再生 / 一時停止 (Space)</translation>
    </message>
    <message>
        <source>One mini-batch: forward, backward, update (→)</source>
        <translation>ミニバッチ 1 つ分: 順伝播、誤差逆伝播、重みの更新 (→)</translation>
    </message>
    <message>
        <source>One phase: forward through a layer, the loss, backward through a layer, or the update (Shift+→)</source>
        <translation>1 フェーズ分: 1 層の順伝播、損失、1 層の誤差逆伝播、または重みの更新 (Shift+→)</translation>
    </message>
    <message>
        <source>Train to the end of the current epoch (Ctrl+→)</source>
        <translation>現在のエポックの終わりまで学習 (Ctrl+→)</translation>
    </message>
    <message>
        <source>New random weights, empty history (R)</source>
        <translation>重みを乱数で初期化し直し、履歴を消去 (R)</translation>
    </message>
    <message>
        <source>  Space play/pause · → step · Shift+→ phase · R reset</source>
        <translation>  Space 再生/一時停止 · → ステップ · Shift+→ フェーズ · R リセット</translation>
    </message>
</context>
<context>
    <name>StatusReadout</name>
    <message>
        <source>mini-batches done</source>
        <extracomment>field -&gt; its tooltip (context ``StatusReadout``)</extracomment>
        <translation>処理したミニバッチの数</translation>
    </message>
    <message>
        <source>passes over the training set</source>
        <translation>訓練データを一巡した回数</translation>
    </message>
    <message>
        <source>where the step-through is</source>
        <translation>ステップ実行の現在位置</translation>
    </message>
    <message>
        <source>training loss of the last mini-batch</source>
        <translation>直前のミニバッチの訓練損失</translation>
    </message>
    <message>
        <source>training accuracy of the last mini-batch / test accuracy</source>
        <translation>直前のミニバッチの訓練正解率 / テスト正解率</translation>
    </message>
    <message>
        <source>training steps per second</source>
        <translation>1 秒あたりの学習ステップ数</translation>
    </message>
    <message>
        <source>step &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>ステップ &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>epoch &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>エポック &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>待機中</translation>
    </message>
    <message>
        <source>phase &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>フェーズ &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>loss &lt;b&gt;{0}&lt;/b&gt;</source>
        <translation>損失 &lt;b&gt;{0}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>acc &lt;b&gt;{0}&lt;/b&gt; / test &lt;b&gt;{1}&lt;/b&gt;</source>
        <translation>正解率 &lt;b&gt;{0}&lt;/b&gt; / テスト &lt;b&gt;{1}&lt;/b&gt;</translation>
    </message>
    <message>
        <source>{0} steps/s</source>
        <translation>{0} ステップ/秒</translation>
    </message>
    <message>
        <source>running</source>
        <translation>実行中</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>一時停止中</translation>
    </message>
</context>
<context>
    <name>Transport</name>
    <message>
        <source>&amp;Play</source>
        <extracomment>(window attribute, label, controller method, shortcut, icon)</extracomment>
        <translation>再生(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Step</source>
        <translation>1 ステップ(&amp;S)</translation>
    </message>
    <message>
        <source>Step &amp;phase</source>
        <translation>1 フェーズ(&amp;P)</translation>
    </message>
    <message>
        <source>Run one &amp;epoch</source>
        <translation>1 エポック実行(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Reset</source>
        <translation>リセット(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>一時停止(&amp;P)</translation>
    </message>
    <message>
        <source> speed </source>
        <translation> 速度 </translation>
    </message>
    <message>
        <source>Cap on training steps per second (live)</source>
        <translation>1 秒あたりの学習ステップ数の上限 (学習中も変更可)</translation>
    </message>
</context>
<context>
    <name>cli</name>
    <message>
        <source>commands:
  run      train one experiment, write its metrics, summary and plots
  compare  run variants side by side (cartesian product of --vary options)
  check    validate a config file or preset without training
  sweep    train a grid of nets (e.g. sigma_w2 x depth), compare with 6 xi_c
  presets  list the bundled presets

CONFIG is a .toml/.json file or a preset name (see `vglab presets`).  --set key=value
overrides any field; values are TOML literals (5, 0.01, true, &quot;text&quot;, [16, 16]).

exit codes: 0 ok, 1 runtime failure, 2 invalid config or arguments, 3 a run diverged,
130 interrupted

examples:
  vglab run seed000_deep_activations --epochs 10
  vglab compare seed002_depth_16_units --steps 300
  vglab check my_experiment.toml
</source>
        <translation>コマンド:
  run      実験を 1 つ学習し、指標・要約・図を書き出す
  compare  変種を並べて実行 (--vary オプションの全組み合わせ)
  check    設定ファイルまたはプリセットを学習せずに検証
  sweep    ネットの格子 (例 sigma_w2 x depth) を学習し、6 xi_c と比較
  presets  同梱のプリセットを一覧表示

CONFIG は .toml/.json ファイルまたはプリセット名です (`vglab presets` を参照)。
--set key=value で任意のフィールドを上書きします。値は TOML リテラルです
(5, 0.01, true, &quot;text&quot;, [16, 16])。

終了コード: 0 成功、1 実行時エラー、2 不正な設定または引数、3 学習が発散、
130 中断

例:
  vglab run seed000_deep_activations --epochs 10
  vglab compare seed002_depth_16_units --steps 300
  vglab check my_experiment.toml
</translation>
    </message>
    <message>
        <source>usage: </source>
        <translation>使い方: </translation>
    </message>
    <message>
        <source>positional arguments</source>
        <translation>位置引数</translation>
    </message>
    <message>
        <source>options</source>
        <translation>オプション</translation>
    </message>
    <message>
        <source>show this help message and exit</source>
        <translation>このヘルプを表示して終了</translation>
    </message>
    <message>
        <source>language of the messages (default: from LANG, e.g. ja_JP.UTF-8)</source>
        <translation>メッセージの言語 (既定: LANG による。例 ja_JP.UTF-8)</translation>
    </message>
    <message>
        <source>Vanishing Gradient Lab: watch gradients shrink layer by layer.</source>
        <extracomment>command -&gt; (flag, metavar, help) of its repeatable list option</extracomment>
        <translation>Vanishing Gradient Lab (勾配消失ラボ): 勾配が層ごとに小さくなる様子を観察します。</translation>
    </message>
    <message>
        <source>show the version and exit</source>
        <translation>バージョンを表示して終了</translation>
    </message>
    <message>
        <source>show a traceback for runtime failures</source>
        <translation>実行時エラーのトレースバックを表示</translation>
    </message>
    <message>
        <source>train one experiment</source>
        <translation>実験を 1 つ学習</translation>
    </message>
    <message>
        <source>run variants side by side</source>
        <translation>複数の変種を並べて実行</translation>
    </message>
    <message>
        <source>validate a config</source>
        <translation>設定を検証</translation>
    </message>
    <message>
        <source>train a grid of nets, compare with 6 xi_c</source>
        <translation>ネットの格子を学習し、6 xi_c と比較</translation>
    </message>
    <message>
        <source>list the presets</source>
        <translation>プリセットの一覧</translation>
    </message>
    <message>
        <source>error: {0}</source>
        <translation>エラー: {0}</translation>
    </message>
    <message>
        <source>error: {0} problems:</source>
        <translation>エラー: 問題が {0} 件あります:</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>中断しました</translation>
    </message>
    <message>
        <source>runtime failure: {0}: {1} (--debug shows the traceback)</source>
        <translation>実行時エラー: {0}: {1} (--debug でトレースバックを表示)</translation>
    </message>
</context>
</TS>
