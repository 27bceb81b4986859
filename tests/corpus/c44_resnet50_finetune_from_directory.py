"""Fine-tune all of ResNet50 on a folder of dermoscopy images (data/train/<class>/*.jpg)."""
import keras
from keras import layers

DATA_DIR = "data/train"
IMG_SIZE = (224, 224)
NUM_CLASSES = 7

train_ds, val_ds = keras.utils.image_dataset_from_directory(
    DATA_DIR,
    validation_split=0.2,
    subset="both",
    seed=1337,
    image_size=IMG_SIZE,
    batch_size=8,
    label_mode="categorical",
)

augment = keras.Sequential([layers.RandomFlip("horizontal_and_vertical"), layers.RandomRotation(0.1)])

base = keras.applications.ResNet50(include_top=False, weights=None, pooling="avg",
                                   input_shape=IMG_SIZE + (3,))
base.trainable = True  # fine-tune the whole network

inputs = keras.Input(IMG_SIZE + (3,))
x = augment(inputs)
x = keras.applications.resnet50.preprocess_input(x)
x = base(x)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
model = keras.Model(inputs, outputs)

model.compile(
    optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
    loss="categorical_crossentropy",
    metrics=["accuracy", keras.metrics.AUC(name="auc")],
)
model.fit(
    train_ds,
    validation_data=val_ds,
    epochs=40,
    callbacks=[keras.callbacks.ModelCheckpoint("resnet50_derm.keras", save_best_only=True)],
)
